// The outcome code and text of an error a runtime call returned (include/ordo/runtime.hpp,
// ERRORS). Storage errors carry their code as a value; the runtime's own errors are CAF
// errors whose text starts with a code of the outcome table ("not_owner: ...").
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/sec.hpp>

#include "ordo/outcome_code.hpp"
#include "ordo/runtime.hpp"
#include "storage/errors.hpp"

namespace ordo {

namespace {
// The text a CAF error carries as its first element, "" if none.
std::string text_of(const caf::error& err) {
  return storage::error_context(err);
}
} // namespace

outcome_code error_code(const caf::error& err) {
  if (auto code = storage::storage_errc_of(err)) return outcome_code_of(storage::to_string(*code));
  if (err == caf::sec::invalid_argument) return outcome_code::invalid_argument;
  const auto text = text_of(err);
  const auto colon = text.find(':');
  if (colon == std::string::npos) return outcome_code::internal;
  return outcome_code_of(std::string_view(text).substr(0, colon));
}

std::string describe(const caf::error& err) {
  if (!err) return "ok";
  if (storage::storage_errc_of(err)) return storage::describe(err);
  auto text = text_of(err);
  if (text.empty()) return caf::to_string(err);
  if (err == caf::sec::invalid_argument) return "invalid_argument: " + text;
  return text;
}

} // namespace ordo
