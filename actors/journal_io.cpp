#include "actors/journal_io.hpp"

#include "storage/errors.hpp"

namespace ordo {

namespace {

append_answer_ptr answer_of(const caf::error& err) {
  auto a = std::make_shared<append_answer>();
  a->code = code_of(err);
  a->message = describe(err);
  auto c = storage::storage_errc_of(err);
  a->fenced = c == storage::storage_errc::sequence_conflict;
  a->fatal = c == storage::storage_errc::io_error || c == storage::storage_errc::failed;
  return a;
}

} // namespace

void persist(storage::journal& j, storage::append_request req, caf::actor to, uint64_t token,
             const std::function<void(std::function<void()>)>& deliver) {
  auto err =
      j.submit(std::move(req), [to, token, deliver](caf::expected<storage::append_result> r) {
        append_answer_ptr a;
        if (r) {
          a = std::make_shared<append_answer>();
          a->ok = true;
          a->first_seq = r->first_seq;
          a->last_seq = r->last_seq;
        } else {
          a = answer_of(r.error());
        }
        auto send = [to, token, a] { caf::anon_send(to, persisted_atom::value, token, a); };
        if (deliver)
          deliver(std::move(send));
        else
          send();
      });
  if (err) {
    auto send = [to, token, a = answer_of(err)] {
      caf::anon_send(to, persisted_atom::value, token, a);
    };
    if (deliver)
      deliver(std::move(send));
    else
      send();
  }
}

std::string code_of(const caf::error& err) {
  if (auto c = storage::storage_errc_of(err)) return storage::to_string(*c);
  return "error";
}

std::string describe(const caf::error& err) {
  if (storage::storage_errc_of(err)) return storage::describe(err);
  return caf::to_string(err);
}

} // namespace ordo
