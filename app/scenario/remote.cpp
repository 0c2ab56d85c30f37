#include "app/scenario/remote.hpp"

#include <chrono>
#include <random>

#include <fmt/core.h>

#include "messages/json/json.hpp"
#include "app/scenario/target.hpp"
#include "ordo/v1/api.pb.h"

namespace ordo::scenario {

namespace {

// An HTTP answer back into the runtime's outcome, so `expect` reads the same either way.
outcome to_outcome(const net::http_result& r) {
  if (r.status == 0) return failure("unreachable", r.error, true);
  if (r.status >= 200 && r.status < 300) {
    v1::CommandAnswer a;
    if (auto e = ordo::json::parse(r.body, a); !e.empty())
      return failure("bad_answer", "unreadable command answer: " + e, true);
    outcome o;
    o.status = outcome_status::accepted;
    o.entity_id = a.order_id().empty() ? a.sku() : a.order_id();
    o.duplicate = a.duplicate();
    o.first_seq = a.first_seq();
    o.last_seq = a.last_seq();
    for (auto& e : *a.mutable_events())
      o.events.push_back(std::move(e));
    return o;
  }
  v1::ErrorBody b;
  if (auto e = ordo::json::parse(r.body, b); !e.empty())
    return failure("bad_answer", fmt::format("HTTP {} with an unreadable body", r.status), true);
  if (r.status == 429) return overloaded(b.error().message());
  v1::RejectionCode code;
  if (v1::RejectionCode_Parse("REJECTION_CODE_" + b.error().code(), &code)) {
    outcome o;
    o.status = outcome_status::rejected;
    o.code = v1::RejectionCode_Name(code);
    o.message = b.error().message();
    return o;
  }
  return failure(b.error().code(), b.error().message(), b.error().unknown_if_applied());
}

class remote_target final : public target {
public:
  explicit remote_target(net::http_client& c)
      : c_(c),
        prefix_(fmt::format("run-{:016x}-",
                            std::random_device{}() * 0x9E3779B97F4A7C15ull ^
                                static_cast<uint64_t>(
                                    std::chrono::system_clock::now().time_since_epoch().count()))) {
  }
  std::string key_prefix() const override { return prefix_; }

  std::optional<outcome> submit_order(const v1::OrderCommand& cmd,
                                      const std::string& key) override {
    return to_outcome(
        c_.post("/v1/admin/order-commands", ordo::json::print(cmd), {{"Idempotency-Key", key}}));
  }
  std::optional<outcome> submit_inventory(const v1::InventoryCommand& cmd,
                                          const std::string& key) override {
    return to_outcome(c_.post("/v1/admin/inventory-commands", ordo::json::print(cmd),
                              {{"Idempotency-Key", key}}));
  }
  std::optional<v1::OrderState> order(const std::string& id, std::string& error) override {
    return read<v1::OrderState>("/v1/orders/" + id, error);
  }
  std::optional<v1::InventoryState> inventory(const std::string& sku, std::string& error) override {
    return read<v1::InventoryState>("/v1/inventory/" + sku, error);
  }
  std::optional<std::string> restart(std::optional<bool>) override {
    return std::string("restart / saga on|off cannot be done against a remote node (run the "
                       "scenario embedded: ordo-scenario)");
  }

private:
  template <class State>
  std::optional<State> read(const std::string& path, std::string& error) {
    auto r = c_.get(path);
    State s;
    if (r.status == 404) return s; // never created: the empty state, as embedded
    if (r.status != 200) {
      error = r.status == 0 ? r.error : fmt::format("HTTP {}: {}", r.status, r.body);
      return std::nullopt;
    }
    if (auto e = ordo::json::parse(r.body, s); !e.empty()) {
      error = "unreadable state: " + e;
      return std::nullopt;
    }
    return s;
  }
  net::http_client& c_;
  std::string prefix_;
};

} // namespace

run_report run_remote_file(const std::string& path, net::http_client& node, bool keep_going) {
  run_report report;
  auto steps = read_file(path, report);
  if (!steps) return report;
  remote_target t{node};
  return run_on(*steps, t, keep_going);
}

} // namespace ordo::scenario
