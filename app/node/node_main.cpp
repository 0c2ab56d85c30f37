// ordo-node: an Ordo node — the order runtime behind the HTTP/JSON API (docs/api.md),
// started from defaults, a TOML config and/or command-line settings (--help).
//
// A journal fail-stop (a failed write or sync) is logged once; /readyz answers 503 from then
// on, and by default (node.exit_on_fail_stop) the node keeps serving reads for
// node.fail_stop_drain, then stops as below and exits with code 3 for its supervisor.
//
// Shutdown (SIGTERM/SIGINT): /readyz turns 503, the listener stops accepting, requests in
// flight are answered (their commands commit first), long polls are answered, then the
// runtime drains and flushes. A second signal does not interrupt this; SIGKILL is the
// crash case, and then every acknowledged command is already on disk.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "actors/cluster/cluster_link.hpp"
#include "ordo/runtime.hpp"
#include "actors/saga/webhook_gateway.hpp"
#include "actors/start.hpp"
#include "app/node/api.hpp"
#include "app/node/errors.hpp"
#include "app/node/http_server.hpp"
#include "app/node/log.hpp"
#include "app/node/metrics.hpp"
#include "actors/testing/simulated_gateway.hpp"

namespace {

using namespace ordo::node;

// Reads the command line over the config file. Returns an exit code to stop with, or -1.
int parse_args(int argc, char** argv, node_config& cfg, bool& check_only) {
  std::vector<std::string> overrides;
  std::string file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* name) -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "ordo-node: {} needs a value (see --help)\n", name);
        return {};
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      fmt::print("{}", help_text());
      return 0;
    } else if (a == "--config") {
      file = next("--config");
      if (file.empty()) return 2;
    } else if (a == "--data") {
      auto v = next("--data");
      if (v.empty()) return 2;
      overrides.push_back("node.data_dir=" + v);
    } else if (a == "--listen") {
      auto v = next("--listen");
      if (v.empty()) return 2;
      overrides.push_back("http.listen=" + v);
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      overrides.push_back(a.substr(2));
    } else {
      fmt::print(stderr, "ordo-node: unknown option '{}' (see --help)\n", a);
      return 2;
    }
  }
  if (!file.empty()) {
    auto loaded = load_config_file(file);
    if (!loaded) {
      fmt::print(stderr, "ordo-node: {}\n", describe(loaded.error()));
      return 2;
    }
    cfg = std::move(*loaded);
  }
  for (const auto& o : overrides)
    if (auto r = apply_override(cfg, o); !r) {
      fmt::print(stderr, "ordo-node: {}\n", describe(r.error()));
      return 2;
    }
  if (auto r = validate(cfg); !r) {
    fmt::print(stderr, "ordo-node: {}\n", describe(r.error()));
    return 2;
  }
  return -1;
}

constexpr int exit_fail_stopped = 3;

// Waits for SIGTERM/SIGINT (returns it) or, with node.exit_on_fail_stop, for the journal to
// fail-stop (returns 0 after node.fail_stop_drain). A fail-stop is logged once, loudly,
// whatever the setting: /readyz answers 503 from then on and /metrics shows it.
int wait_for_stop(const sigset_t& signals, ordo::runtime& rt, api& handler,
                  const node_config& cfg) {
  const timespec poll{0, 100'000'000};
  bool reported = false;
  for (;;) {
    int sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig == SIGTERM || sig == SIGINT) return sig;
    auto failed = rt.fail_stop_error();
    if (!failed || reported) continue;
    reported = true;
    handler.set_ready(false);
    log::error("journal_fail_stopped",
               {{"error", describe(failed)},
                {"effect", "every command fails; /readyz answers 503; reads still served"},
                {"action", cfg.exit_on_fail_stop
                               ? fmt::format("exiting with code {} in {} ms (node.exit_on_fail_stop)",
                                             exit_fail_stopped, cfg.fail_stop_drain.count())
                               : "restart the node once the disk is fixed"}});
    if (!cfg.exit_on_fail_stop) continue;
    auto until = std::chrono::steady_clock::now() + cfg.fail_stop_drain;
    while (std::chrono::steady_clock::now() < until) {
      sig = sigtimedwait(&signals, nullptr, &poll);
      if (sig == SIGTERM || sig == SIGINT) return sig;
    }
    return 0;
  }
}

// Signals are taken by sigwait() (wait_for_stop): block them before any thread starts, so
// every thread inherits the mask and none is interrupted. Returns the set to wait for.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN); // a client closing mid-answer is an error value, not a crash
  return stop_signals;
}

// The start's log lines: the settings that matter, and a warning when nothing authenticates.
void log_starting(const node_config& cfg) {
  log::info("starting",
            {{"config", cfg.source},
             {"data_dir", cfg.runtime.data_dir},
             {"node_id", std::to_string(cfg.runtime.node_id)},
             {"shards", std::to_string(cfg.runtime.shard_count)},
             {"workers", std::to_string(cfg.runtime.worker_threads)},
             {"durability", to_string(cfg.runtime.sync)},
             {"saga", cfg.runtime.saga.enabled ? "on" : "off"},
             {"gateway", cfg.gateway},
             {"fulfilment", cfg.runtime.saga.external_fulfilment ? "external" : "simulated"}});
  if (cfg.keys.empty())
    log::warn("auth_disabled", {{"reason", "no [[auth.keys]] configured"},
                                {"effect", "every caller is operations; loopback only"}});
}

// A cluster: commands for shards owned elsewhere are forwarded over CAF (docs/cluster.md).
// Fills `link` and the runtime's cluster hooks; false (logged) if the link failed.
bool start_cluster_link(node_config& cfg, std::unique_ptr<ordo::cluster::cluster_link>& link,
                        ordo::cluster_hooks& hooks) {
  ordo::cluster::link_options o;
  o.self = cfg.runtime.node_id;
  o.shard_count = cfg.runtime.shard_count;
  o.state_path = cfg.runtime.data_dir + "/cluster-state.pb";
  o.join = cfg.cluster_join;
  o.handoff_batch_bytes = size_t{cfg.handoff_batch_kb} * 1024;
  o.handoff_pause = std::chrono::milliseconds{cfg.handoff_pause_ms};
  for (const auto& m : cfg.cluster)
    o.members.push_back({m.id, m.host, m.port});
  o.tls = cluster_tls(cfg); // validate() allowed it off only with every node on loopback
  if (!o.tls.enabled)
    log::warn("cluster_tls_disabled",
              {{"reason", "cluster.tls = false"},
               {"effect", "node-to-node traffic is plaintext and unauthenticated; every node "
                          "is on loopback"}});
  std::filesystem::create_directories(cfg.runtime.data_dir);
  auto l = ordo::cluster::cluster_link::create(o);
  if (!l) {
    log::error("start_failed", {{"error", caf::to_string(l.error())}});
    return false;
  }
  link = std::move(*l);
  auto* lp = link.get();
  hooks.route = [lp](uint16_t shard) { return lp->route(shard); };
  hooks.forward = [lp](ordo::v1::Envelope e, uint16_t shard,
                                     ordo::completion done) {
    lp->forward(std::move(e), shard, std::move(done));
  };
  hooks.read_order = [lp](const std::string& id,
                                        uint16_t shard) -> caf::expected<ordo::v1::OrderState> {
    auto answer = std::make_shared<std::promise<caf::expected<ordo::v1::OrderState>>>();
    auto got = answer->get_future();
    lp->read_order(id, shard, [answer](caf::expected<ordo::v1::OrderState> st) {
      answer->set_value(std::move(st));
    });
    return got.get(); // answered exactly once: the owner, a timeout, or the owner down
  };
  log::info("cluster", {{"nodes", std::to_string(lp->owners().committed_members().size())},
                        {"epoch", std::to_string(lp->owners().epoch())},
                        {"shards_owned", std::to_string(lp->owners().owned().size())},
                        {"joining", lp->owners().cluster_id() == 0 ? "true" : "false"},
                        {"cluster_id", fmt::format("{:016x}", lp->cluster_id())}});
  return true;
}

// After a stop signal or a fail-stop: not ready, stop accepting, answer what is in flight (30 s
// at most), then stop the runtime, the cluster link and the listener. Requests left unanswered.
size_t drain_and_stop(int sig, http_server& server, api& handler, ordo::runtime& rt,
                      ordo::cluster::cluster_link* link) {
  auto t_stop = std::chrono::steady_clock::now();
  log::info("stopping", {{"reason", sig == SIGTERM  ? "SIGTERM"
                                    : sig == SIGINT ? "SIGINT"
                                                    : "journal fail-stop"},
                         {"in_flight", std::to_string(server.in_flight())}});
  handler.set_ready(false);
  server.stop_accepting();
  handler.stop(); // answers waiting long polls now
  auto deadline = t_stop + std::chrono::seconds{30};
  while (server.in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  size_t unanswered = server.in_flight();
  rt.stop(); // drains what the runtime still holds (saga work), flushes, closes
  if (link) link->stop();
  server.stop();
  auto st = rt.stats();
  log::info("stopped",
            {{"unanswered_requests", std::to_string(unanswered)},
             {"commands_answered", std::to_string(st.answered)},
             {"took_ms", fmt::format("{:.1f}", std::chrono::duration<double, std::milli>(
                                                   std::chrono::steady_clock::now() - t_stop)
                                                   .count())}});
  return unanswered;
}

} // namespace

int main(int argc, char** argv) {
  const sigset_t stop_signals = block_stop_signals();

  node_config cfg;
  bool check_only = false;
  if (int rc = parse_args(argc, argv, cfg, check_only); rc >= 0) return rc;
  log::set_level(cfg.log);
  if (check_only) {
    fmt::print("config OK ({}): data {}, listen {}, {} API keys, durability {}\n", cfg.source,
               cfg.runtime.data_dir, cfg.http.listen, cfg.keys.size(), to_string(cfg.runtime.sync));
    return 0;
  }

  std::error_code ec;
  std::filesystem::create_directories(cfg.runtime.data_dir, ec);
  if (ec) {
    log::error("start_failed", {{"reason", "cannot create data directory"},
                                {"data_dir", cfg.runtime.data_dir},
                                {"error", ec.message()}});
    return 1;
  }
  if (cfg.gateway == "webhook")
    cfg.runtime.saga.gateway = std::make_shared<ordo::saga::webhook_gateway>(
        std::make_shared<ordo::saga::simulated_gateway>(cfg.runtime.saga.simulated));

  auto t0 = std::chrono::steady_clock::now();
  auto ms_since = [&] {
    return fmt::format(
        "{:.1f}",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  };
  log_starting(cfg);

  std::unique_ptr<ordo::cluster::cluster_link> link;
  ordo::cluster_hooks hooks; // empty: a single node
  if (!cfg.cluster.empty() && !start_cluster_link(cfg, link, hooks)) return 1;

  auto rt = ordo::start_runtime(cfg.runtime, std::move(hooks));
  if (!rt) {
    log::error("start_failed", {{"error", describe(rt.error())}});
    return 1;
  }
  if (link)
    if (auto served = link->serve(**rt); !served) {
      log::error("start_failed", {{"error", caf::to_string(served.error())}});
      (*rt)->stop();
      return 1;
    }
  metrics m;
  api handler{**rt, cfg, m, link.get()};
  auto server = http_server::start(
      cfg.http,
      [&handler](http_request r, responder done) { handler.handle(std::move(r), std::move(done)); },
      m);
  if (!server) {
    log::error("start_failed", {{"error", describe(server.error())}});
    handler.stop();
    (*rt)->stop();
    return 1;
  }
  auto host = cfg.http.listen.substr(0, cfg.http.listen.rfind(':'));
  auto addr = fmt::format("{}:{}", host, (*server)->port());
  handler.set_ready(true);
  log::info(
      "serving",
      {{"http", addr}, {"after_ms", ms_since()}, {"api_keys", std::to_string(cfg.keys.size())}});
  // One plain line on stdout for scripts and tests that start a node on port 0.
  fmt::print("ordo-node listening on {}\n", addr);
  std::fflush(stdout);

  const int sig = wait_for_stop(stop_signals, **rt, handler, cfg);
  const size_t unanswered = drain_and_stop(sig, **server, handler, **rt, link.get());
  if (sig == 0) return exit_fail_stopped; // a supervisor restarts the node
  return unanswered == 0 ? 0 : 1;
}
