#include "actors/runtime/journal_io.hpp"

#include <future>
#include <memory>

#include "storage/errors.hpp"

namespace ordo {

namespace {

append_answer answer_of(const caf::error& err) {
  append_answer a;
  a.code = code_of(err);
  a.message = describe(err);
  auto c = storage::storage_errc_of(err);
  a.fenced = c == storage::storage_errc::sequence_conflict;
  a.fatal = c == storage::storage_errc::io_error || c == storage::storage_errc::failed;
  return a;
}

void hand_over(append_answer a, const std::function<void(append_answer)>& done,
               const std::function<void(std::function<void()>)>& deliver) {
  if (deliver)
    deliver([done, a = std::move(a)]() mutable { done(std::move(a)); });
  else
    done(std::move(a));
}

} // namespace

void persist(storage::journal& j, storage::append_request req,
             std::function<void(append_answer)> done,
             const std::function<void(std::function<void()>)>& deliver) {
  // Shared: the journal keeps the completion only if it accepts the request.
  auto d = std::make_shared<std::function<void(append_answer)>>(std::move(done));
  // With `deliver` (a deterministic test) the append completes before persist returns, so
  // which answers are waiting never depends on the writer thread's timing.
  auto handed = deliver ? std::make_shared<std::promise<void>>() : nullptr;
  auto err = j.submit(std::move(req), [d, deliver, handed](caf::expected<storage::append_result> r) {
    append_answer a;
    if (r) {
      a.ok = true;
      a.first_seq = r->first_seq;
      a.last_seq = r->last_seq;
    } else {
      a = answer_of(r.error());
    }
    hand_over(std::move(a), *d, deliver);
    if (handed) handed->set_value();
  });
  if (err)
    hand_over(answer_of(err), *d, deliver);
  else if (handed)
    handed->get_future().wait();
}

std::string code_of(const caf::error& err) {
  if (auto c = storage::storage_errc_of(err)) return storage::to_string(*c);
  return "error";
}

} // namespace ordo
