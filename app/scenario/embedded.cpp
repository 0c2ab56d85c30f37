#include "app/scenario/embedded.hpp"

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include <fmt/core.h>

#include "app/scenario/target.hpp"

namespace ordo::scenario {

namespace {

// The embedded runtime as a scenario target: restarts stop and start it on the same store.
class embedded_target final : public target {
public:
  explicit embedded_target(runtime_config cfg) : cfg_(std::move(cfg)) {}
  ~embedded_target() override {
    if (rt_) rt_->stop();
  }
  std::optional<std::string> start() {
    auto rt = runtime::start(cfg_);
    if (!rt) return to_string(rt.error());
    rt_ = std::move(*rt);
    return std::nullopt;
  }
  std::optional<outcome> submit_order(const v1::OrderCommand& cmd,
                                      const std::string& key) override {
    return await(rt_->submit_order(cmd, key));
  }
  std::optional<outcome> submit_inventory(const v1::InventoryCommand& cmd,
                                          const std::string& key) override {
    return await(rt_->submit_inventory(cmd, key));
  }
  std::optional<v1::OrderState> order(const std::string& id, std::string& error) override {
    auto st = rt_->order(id);
    if (!st) {
      error = to_string(st.error());
      return std::nullopt;
    }
    return std::move(*st);
  }
  std::optional<v1::InventoryState> inventory(const std::string& sku, std::string& error) override {
    auto st = rt_->inventory(sku);
    if (!st) {
      error = to_string(st.error());
      return std::nullopt;
    }
    return std::move(*st);
  }
  std::optional<std::string> restart(std::optional<bool> saga) override {
    if (saga) cfg_.saga.enabled = *saga;
    rt_->stop();
    rt_.reset();
    if (auto bad = start()) return "restart failed: " + *bad;
    return std::nullopt;
  }

private:
  static std::optional<outcome> await(std::future<outcome> f) {
    if (f.wait_for(std::chrono::seconds{30}) != std::future_status::ready) return std::nullopt;
    return f.get();
  }
  runtime_config cfg_;
  std::unique_ptr<runtime> rt_;
};

} // namespace

run_report run(const std::vector<step>& steps, const runtime_config& cfg, bool keep_going) {
  embedded_target t{cfg};
  if (auto bad = t.start()) return run_report{0, {fmt::format("runtime did not start: {}", *bad)}};
  return run_on(steps, t, keep_going);
}

run_report run_file(const std::string& path, const runtime_config& cfg, bool keep_going) {
  run_report report;
  auto steps = read_file(path, report);
  return steps ? run(*steps, cfg, keep_going) : report;
}

} // namespace ordo::scenario
