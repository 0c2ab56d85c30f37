#pragma once
// Internal: the state behind cluster_link, shared by the transport (cluster_link.cpp,
// link_forward.cpp), the ingress (ingress.cpp), the shard moves (handoff.cpp) and the
// membership change (membership_change.cpp).

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/cluster/cluster_link.hpp"
#include "actors/cluster/control_auth.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

// What a peer's ingress handles (the router sends them, ingress.cpp answers them).
using fwd_atom = caf::atom_constant<caf::atom("cl_fwd")>;
using read_atom = caf::atom_constant<caf::atom("cl_read")>;
using ctl_atom = caf::atom_constant<caf::atom("cl_ctl")>;
using reply_atom = caf::atom_constant<caf::atom("cl_reply")>;

/// What a call to a peer's ingress carries (one CAF handler each).
enum class call_kind : uint8_t { command, read, control };

/// One call to a peer, answered exactly once: by the peer's reply, a timeout, or the peer
/// going down (whichever comes first).
struct pending_call {
  std::function<void(caf::expected<std::string>)> fn;
  std::atomic<bool> finished{false};
  std::chrono::milliseconds timeout{5'000};
  void finish(caf::expected<std::string> r) {
    if (!finished.exchange(true)) fn(std::move(r));
  }
};
using call_ptr = std::shared_ptr<pending_call>;

struct cluster_link::impl {
  link_options opt;
  ownership* own = nullptr;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::actor router, ingress;
  runtime* rt = nullptr;
  std::shared_ptr<const credentials> creds; // TLS on: signs and checks control messages
  std::thread connector;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> forwarded{0}, forward_failed{0}, received{0}, refused{0}, forward_us_sum{0};
  std::atomic<uint64_t> moved_out{0}, moved_in{0}, imported{0};
  std::array<std::atomic<uint64_t>, link_stats::forward_bounds_s.size() + 1> latency{};
  void record_latency(uint64_t us);

  mutable std::mutex peers_mu;
  std::map<uint16_t, bool> connected; // guarded by peers_mu
  void set_connected(uint16_t node, bool up);
  bool is_connected(uint16_t node) const;
  void connect_loop();

  /// Sends `bytes` to `node`'s ingress; `fn` gets the reply bytes or an error.
  void call(uint16_t node, call_kind kind, std::string bytes,
            std::function<void(caf::expected<std::string>)> fn, std::chrono::milliseconds timeout);
  /// The blocking form, for the handoff threads (never an actor's thread).
  caf::expected<std::string> call_sync(uint16_t node, call_kind kind, std::string bytes,
                                       std::chrono::milliseconds timeout);
  /// A control message to `node` (this node itself handled in place); the answer's error.
  caf::expected<v1::ControlAnswer> control(uint16_t node, v1::ClusterControl msg,
                                           std::chrono::milliseconds timeout);

  // Control messages run on threads of their own (a handoff blocks for as long as the
  // shard's records take to move). stop() waits for them; each notices `stopping` within
  // ~100 ms (call_sync gives up waiting then).
  std::mutex workers_mu;
  std::condition_variable workers_cv;
  int workers_running = 0;               // guarded by workers_mu
  static constexpr int workers_max = 64; // bounded: beyond it a control message is refused
  /// Runs `fn` on a thread of its own; false (and `fn` not run) when stopping or at the cap.
  bool spawn_worker(std::function<void()> fn);

  // The change this node coordinates (at most one at a time).
  mutable std::mutex change_mu;
  change_status change;              // guarded by change_mu
  std::mutex move_mu;                // one handoff out of this node at a time
  std::atomic<bool> resuming{false}; // a resume_moves worker is running
};

/// The owner's answer to a forwarded command, read back (link_forward.cpp; fuzzed by
/// fuzz/cluster_message.cpp). Moves the events out of `f`.
outcome from_proto(v1::ForwardedOutcome& f);

/// Spawns the ingress: the published actor that answers peers' commands, reads and control
/// messages (ingress.cpp).
caf::actor spawn_ingress(cluster_link::impl& p);

/// Handles one control message from a peer (or from this node); runs on a worker thread.
v1::ControlAnswer handle_control(cluster_link::impl& p, const v1::ClusterControl& msg);

/// Resumes the handoffs this node had begun before it stopped (persisted "moving out").
void resume_moves(cluster_link::impl& p);
/// Starts resume_moves on a worker unless one runs already.
void start_resuming(cluster_link::impl& p);

/// Runs a membership change to `members` at `epoch` (the coordinator's thread;
/// membership_change.cpp).
void run_change(cluster_link::impl& p, v1::MembershipChange change);

/// One line of the link's log (handoff.cpp): the link has no logger of its own, so stderr
/// lines in the node's logfmt shape.
void log_line(const cluster_link::impl& p, const std::string& event, const std::string& rest);

} // namespace ordo::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ordo::cluster::call_ptr)
