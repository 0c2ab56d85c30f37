// etcd_client::watch_prefix: one bounded long poll on the gateway's watch stream.
#include <fmt/core.h>

#include "coordination/etcd_client.hpp"
#include "coordination/etcd_codec.hpp"
#include "coordination/etcd_errors.hpp"
#include "net/http_client.hpp"

namespace ordo::coordination {

namespace {

constexpr size_t error_text_max = 4096; // of a non-200 answer, kept for its error message

// Reads the stream's lines ({"result": WatchResponse} or {"error": ...}, one per line) until
// the first batch of events, a cancel or an error.
class watch_reader {
public:
  explicit watch_reader(std::string what) : what_(std::move(what)) {}

  bool on_body(std::string_view piece) {
    if (body_start.size() < error_text_max)
      body_start.append(piece.substr(0, error_text_max - body_start.size()));
    pending_.append(piece);
    for (auto nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n')) {
      auto line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      if (!on_line(line)) return false;
    }
    return true;
  }

  std::vector<watch_event> events;
  caf::error error;
  int64_t created_revision = 0; // the store's revision when the watch began
  std::string body_start;       // the start of the body, for a non-200 answer's error

private:
  bool on_line(const std::string& line) {
    etcd::WatchStreamItem item;
    if (auto problem = codec::from_json(line, item); !problem.empty()) {
      error = make_error(etcd_errc::bad_answer, fmt::format("{}: {}", what_, problem));
      return false;
    }
    if (item.has_error()) {
      error = codec::grpc_error(item.error().grpc_code(), item.error().message(), what_);
      return false;
    }
    const auto& r = item.result();
    if (r.compact_revision() > 0) {
      error = make_compacted_error(
          fmt::format("{}: compacted up to revision {}", what_, r.compact_revision()),
          r.compact_revision());
      return false;
    }
    if (r.canceled()) {
      error = make_error(etcd_errc::rejected,
                         fmt::format("{}: watch canceled: {}", what_, r.cancel_reason()));
      return false;
    }
    if (r.created()) created_revision = r.header().revision();
    for (const auto& e : r.events())
      events.push_back(watch_event{e.type() == etcd::Event::DELETE ? watch_event::type::erase
                                                                   : watch_event::type::put,
                                   codec::to_key_value(e.kv())});
    return events.empty(); // the first batch ends the poll
  }

  std::string what_;
  std::string pending_;
};

} // namespace

caf::expected<watch_batch> etcd_client::watch_prefix(const std::string& prefix,
                                                     int64_t from_revision,
                                                     std::chrono::milliseconds wait) {
  const auto what = fmt::format("watch_prefix '{}' from {}", prefix, from_revision);
  if (from_revision < 0 || wait.count() <= 0)
    return make_error(etcd_errc::invalid_argument, what + ": revision < 0 or wait <= 0");
  etcd::WatchRequest req;
  auto* create = req.mutable_create_request();
  create->set_key(prefix.empty() ? std::string(1, '\0') : prefix);
  create->set_range_end(codec::prefix_end(prefix));
  create->set_start_revision(from_revision);
  const auto body = codec::to_json(req);
  net::http_limits limits;
  limits.body_bytes_max = options_.answer_bytes_max;
  const size_t n = options_.endpoints.size(), first = first_endpoint();
  std::string refused;
  for (size_t i = 0; i < n; ++i) {
    const auto& ep = options_.endpoints[(first + i) % n];
    net::http_client conn{ep, "", options_.timeout, limits}; // its own: no lock while waiting
    watch_reader reader{what + " at " + ep};
    auto r = conn.stream(
        "POST", "/v3/watch", body, [&](std::string_view p) { return reader.on_body(p); }, wait);
    if (r.failure == net::http_failure::connect) {
      refused += fmt::format("{}{}", refused.empty() ? "" : "; ", r.error);
      continue;
    }
    if (r.failure != net::http_failure::none)
      return make_error(r.failure == net::http_failure::timeout ? etcd_errc::timeout
                                                                : etcd_errc::bad_answer,
                        fmt::format("{} at {}: {}", what, ep, r.error));
    if (r.status != 200)
      return codec::status_error(r.status, reader.body_start, what + " at " + ep);
    if (reader.error) return reader.error;
    watch_batch out;
    out.events = std::move(reader.events);
    out.next_revision = !out.events.empty()           ? out.events.back().kv.mod_revision + 1
                        : from_revision > 0           ? from_revision
                        : reader.created_revision > 0 ? reader.created_revision + 1
                                                      : 0;
    return out;
  }
  return make_error(etcd_errc::unreachable,
                    fmt::format("{}: no etcd endpoint reachable: {}", what, refused));
}

} // namespace ordo::coordination
