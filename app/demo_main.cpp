// ordo-demo: drives a demo workload through an embedded runtime (data in ./data).
//
// At this stage the node runs a demo workload through the real runtime — every command a
// CAF message to an order actor, persisted to LMDB with a full sync before it is answered —
// then restarts the runtime and checks that every order replays to the state it was
// acknowledged in. The HTTP/JSON server is ordo-node (node/node_main.cpp).
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "app/demo_workload.hpp"
#include "app/saga_demo.hpp"
#include "ordo/parse_number.hpp"

namespace {

void usage() {
  fmt::print("usage: ordo-demo [options]\n"
             "  --data DIR         data directory (default ./data; created if missing)\n"
             "  --orders N         demo orders to drive through their lifecycle (default 20000)\n"
             "  --concurrent N     orders in progress at once (default 512)\n"
             "  --threads N        actor worker threads (default 2)\n"
             "  --shards N         virtual shards (default 64)\n"
             "  --node-id N        this node's id, unique in a cluster (default 1)\n"
             "  --saga             let the saga drive the orders (inventory, simulated payment\n"
             "                     gateway and warehouse) instead of scripting each step;\n"
             "                     try --saga --orders 2000 (see docs/saga.md for its throughput)\n"
             "  --help             this text\n");
}

// Reads the command line into `cfg`, `demo` and `scripted`. Returns an exit code to stop
// with, or -1 to go on.
int parse_args(int argc, char** argv, ordo::runtime_config& cfg, ordo::app::demo_options& demo,
               bool& scripted) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    uint64_t v = 0;
    auto value = [&](const char* name) -> bool {
      if (i + 1 >= argc || ordo::parse_u64(argv[i + 1], v) != ordo::number_error::none) {
        fmt::print(stderr, "ordo-demo: {} needs a number\n", name);
        return false;
      }
      ++i;
      return true;
    };
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else if (a == "--saga") {
      scripted = false;
    } else if (a == "--data" && i + 1 < argc) {
      cfg.data_dir = argv[++i];
    } else if (a == "--orders") {
      if (!value("--orders")) return 2;
      demo.orders = v;
    } else if (a == "--concurrent") {
      if (!value("--concurrent") || v == 0) return 2;
      demo.concurrent = v;
    } else if (a == "--threads") {
      if (!value("--threads") || v == 0) return 2;
      cfg.worker_threads = v;
    } else if (a == "--shards") {
      if (!value("--shards") || v == 0 || v > 65536) return 2;
      cfg.shard_count = static_cast<uint16_t>(v);
    } else if (a == "--node-id") {
      if (!value("--node-id") || v > 65535) return 2;
      cfg.node_id = static_cast<uint16_t>(v);
    } else {
      fmt::print(stderr, "ordo-demo: unknown option '{}' (see --help)\n", a);
      return 2;
    }
  }
  return -1;
}

void print_results(const ordo::app::demo_result& res, const ordo::runtime_stats& st) {
  fmt::print("demo: {} orders settled ({} delivered, {} of them refunded, {} cancelled, {} "
             "rejected) in {:.2f} s = {:.0f} orders/s\n",
             res.orders_done, res.delivered, res.refunded, res.cancelled, res.rejected, res.seconds,
             static_cast<double>(res.orders_done) / res.seconds);
  fmt::print("demo: {} commands acknowledged after commit, {:.0f} commands/s; {} rejected, {} "
             "failed, {} overloaded-and-retried\n",
             res.commands, static_cast<double>(res.commands) / res.seconds, res.rejected,
             res.failed, res.overloaded);
  fmt::print("actors: {} activations, {} active now, {} passivated, {} crashes\n", st.activations,
             st.active, st.passivations, st.crashes);
  for (const auto& e : res.errors)
    fmt::print("  unexpected: {}\n", e);
}

// Reads every order back, restarts, and reads again: replay must give the same states.
// Returns whether every order replayed exactly, or nullopt (said on stderr) if a read or the
// restart failed.
std::optional<bool> replayed_same(const ordo::runtime_config& cfg,
                                    std::unique_ptr<ordo::runtime>& rt,
                                    const std::vector<std::string>& order_ids) {
  std::map<std::string, std::string> before;
  for (const auto& id : order_ids) {
    auto s = rt->order(id);
    if (!s) {
      fmt::print(stderr, "ordo-demo: reading {} failed: {}\n", id, to_string(s.error()));
      return std::nullopt;
    }
    before[id] = s->SerializeAsString();
  }
  rt->stop();
  rt.reset();
  auto t0 = std::chrono::steady_clock::now();
  auto again = ordo::runtime::start(cfg);
  if (!again) {
    fmt::print(stderr, "ordo-demo: restart failed: {}\n", to_string(again.error()));
    return std::nullopt;
  }
  fmt::print("restart: serving again after {:.1f} ms\n",
             std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                 .count());
  size_t same = 0;
  for (const auto& [id, bytes] : before) {
    auto s = (*again)->order(id);
    if (s && s->SerializeAsString() == bytes) ++same;
  }
  fmt::print("restart: {} of {} orders replayed to exactly their acknowledged state\n", same,
             before.size());
  (*again)->stop();
  return same == before.size();
}

} // namespace

int main(int argc, char** argv) {
  ordo::runtime_config cfg;
  // Default: the demo plays inventory, payment and the warehouse by hand (demo_workload.hpp),
  // saga off. --saga lets the saga drive every order instead (saga_demo.hpp).
  bool scripted = true;
  ordo::app::demo_options demo;
  demo.seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  if (int rc = parse_args(argc, argv, cfg, demo, scripted); rc >= 0) return rc;
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (ec) {
    fmt::print(stderr, "ordo-demo: cannot create data directory {}: {}\n", cfg.data_dir,
               ec.message());
    return 1;
  }

  cfg.saga.enabled = !scripted;
  auto t0 = std::chrono::steady_clock::now();
  auto rt = ordo::runtime::start(cfg);
  if (!rt) {
    fmt::print(stderr, "ordo-demo: cannot start: {}\n", to_string(rt.error()));
    return 1;
  }
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  fmt::print("ordo-demo: serving from {} after {:.1f} ms (node {}, {} shards, {} workers, "
             "full sync)\n",
             cfg.data_dir, ms(std::chrono::steady_clock::now() - t0), cfg.node_id, cfg.shard_count,
             cfg.worker_threads);

  fmt::print("demo: {} orders, {} in progress at a time, {}\n", demo.orders, demo.concurrent,
             scripted ? "services scripted by the demo (saga off)"
                      : "driven by the saga (simulated gateway and warehouse)");
  auto res = scripted ? ordo::app::run_demo(**rt, demo) : ordo::app::run_saga_demo(**rt, demo);
  auto st = (*rt)->stats();
  print_results(res, st);

  const auto all_same = replayed_same(cfg, *rt, res.order_ids);
  if (!all_same) return 1;
  bool ok = *all_same && res.failed == 0 && res.rejected == 0 && res.errors.empty() &&
            res.orders_done == demo.orders && (scripted || res.delivered == demo.orders);
  fmt::print("ordo-demo: {}\n", ok ? "done, all checks passed" : "CHECKS FAILED");
  return ok ? 0 : 1;
}
