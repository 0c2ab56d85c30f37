#pragma once
// The runtime's private state (runtime::impl), shared by the files that implement it:
// runtime.cpp (start, the front door, reads, stop), feed_follow.cpp (the feed), shard_admin.cpp
// (handoff). Nothing outside actors/runtime/ includes it.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/feed_retention.hpp"
#include "actors/runtime/internals.hpp"
#include "actors/runtime/models.hpp"
#include "actors/runtime/request.hpp"
#include "actors/runtime/retention.hpp"
#include "actors/runtime/runtime_env.hpp"
#include "actors/runtime/shard_admin.hpp"
#include "actors/runtime/workflow.hpp"
#include "domain/order_id.hpp"
#include "ordo/runtime.hpp"
#include "storage/journal.hpp"

namespace ordo {

struct runtime::impl {
  runtime_config cfg;
  cluster_hooks cluster; // empty: a single node, every shard local
  std::unique_ptr<storage::journal> journal;
  std::unique_ptr<domain::order_id_generator> ids;
  runtime_env env;
  caf::actor_system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::vector<caf::actor> order_shards;
  std::vector<caf::actor> inventory_shards;
  std::atomic<bool> accepting{true};
  std::atomic<bool> stopped{false};
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> submitted{0}, answered{0}, overloaded_count{0};
  std::atomic<uint64_t> round_robin{0};

  // Wraps a completion so the in-flight bound is released exactly when the answer is given.
  completion counted(completion done) {
    return [this, done = std::move(done)](outcome o) {
      answered++;
      in_flight--;
      if (done) done(std::move(o));
    };
  }

  // The bounded front door: every submit passes here before any actor sees it.
  // Counting before checking `accepting` closes the race with stop(): stop() clears
  // `accepting` and then waits for in_flight to drain, so every submit either sees the flag
  // cleared or is counted and waited for.
  bool admit(completion& done) {
    if (in_flight.fetch_add(1) >= static_cast<int64_t>(cfg.in_flight_max)) {
      in_flight--;
      overloaded_count++;
      done(overloaded(fmt::format("the node's in-flight limit ({})", cfg.in_flight_max)));
      return false;
    }
    if (!accepting.load()) {
      in_flight--;
      done(failure("stopping", "the runtime is stopping and accepts no new commands"));
      return false;
    }
    submitted++;
    return true;
  }

  std::variant<uint64_t, outcome> shard_for(const v1::Envelope& e);
  /// Admits, routes to a shard and sends (locally, or to the owner node; a forwarded command
  /// only locally).
  void route(v1::Envelope e, completion done, bool forwarded);

  shard_route route_of(uint64_t shard) const {
    return cluster.route ? cluster.route(static_cast<uint16_t>(shard)) : shard_route::local;
  }

  // A shard this node cannot serve right now: the answer, or nullopt to go on.
  static std::optional<outcome> refusal(shard_route r, uint64_t shard) {
    if (r == shard_route::moving)
      return failure("shard_moving",
                     fmt::format("shard {} is being handed to another node; retry shortly", shard));
    if (r == shard_route::unknown)
      return failure("node_joining", "this node is joining the cluster and does not know the "
                                     "shard owners yet; retry shortly");
    return std::nullopt;
  }

  void send(bool to_orders, uint64_t shard, v1::Envelope env_msg, completion done) {
    // Counted per shard BEFORE asking where it goes: a handoff first marks the shard moving
    // and then waits for this count to reach zero, so every command either sees `moving`
    // or is waited for (drain_shard).
    shard_in_flight[shard]++;
    auto r = route_of(shard);
    if (r == shard_route::remote) {
      shard_in_flight[shard]--;
      cluster.forward(std::move(env_msg), static_cast<uint16_t>(shard),
                          counted(std::move(done)));
      return;
    }
    if (auto no = refusal(r, shard)) {
      shard_in_flight[shard]--;
      counted(std::move(done))(std::move(*no));
      return;
    }
    send_local(to_orders, shard, std::move(env_msg), std::move(done));
  }

  // Sends to the local shard actor; the caller incremented shard_in_flight[shard].
  void send_local(bool to_orders, uint64_t shard, v1::Envelope env_msg, completion done) {
    auto counted_done = counted(std::move(done));
    // A placement's key names its placement record ("p"), which a handoff's delta must carry.
    std::string placement_key;
    if (to_orders && env_msg.entity_id().empty() && env_msg.order_command().has_place_order())
      placement_key = env_msg.idempotency_key();
    auto r = std::make_shared<request>(std::move(env_msg),
                                       [this, shard, to_orders, key = std::move(placement_key),
                                        d = std::move(counted_done)](outcome o) {
                                         // Recorded at answer time: whatever a command committed is
                                         // committed by now.
                                         if (tracking[shard].load())
                                           touched(shard, to_orders, o.entity_id, key);
                                         shard_in_flight[shard]--;
                                         d(std::move(o));
                                       });
    std::shared_lock<std::shared_mutex> alive{system_mu};
    auto& shards = to_orders ? order_shards : inventory_shards;
    if (!sys || shard >= shards.size()) return; // torn down: `r` answers actor_stopped
    caf::anon_send(shards[shard], command_atom::value, std::move(r));
  }

  std::unique_ptr<std::atomic<int64_t>[]> shard_in_flight; // per shard, commands held here

  // Handoff pre-copy: while a shard's records are copied to its next owner it keeps serving,
  // and the entities its commands touch are recorded here, so that after it stops only those
  // have to be copied again (runtime::track_shard / take_tracked).
  static constexpr size_t tracked_max = 1'000'000; // per shard; beyond: overflow
  std::unique_ptr<std::atomic<bool>[]> tracking;
  std::mutex tracked_mu;
  std::unordered_map<uint16_t, shard_changes> tracked; // guarded by tracked_mu
  void touched(uint64_t shard, bool order, const std::string& id, const std::string& key) {
    std::lock_guard<std::mutex> g{tracked_mu};
    auto it = tracked.find(static_cast<uint16_t>(shard));
    if (it == tracked.end() || it->second.overflow) return;
    auto& c = it->second;
    if (!id.empty())
      c.entities.insert(std::string(order ? order_model::key_prefix : inventory_model::key_prefix) +
                        id);
    if (!key.empty()) c.placement_keys.insert(key);
    if (c.entities.size() + c.placement_keys.size() > tracked_max) {
      c.overflow = true;
      c.entities.clear();
      c.placement_keys.clear();
    }
  }
  /// Whether a stored entity belongs to `shard` (for handing the shard over).
  bool entity_in_shard(std::string_view entity, uint16_t shard) const;
  storage::export_selector selector(uint16_t shard) const;

  std::shared_mutex system_mu; // held shared while sending, exclusively to tear down
  // A feed subscription's delivery thread; ended by its handle or by stop(), whichever is
  // first (the journal must outlive every reader).
  // It sleeps until a commit adds to the feed (env.feed), never polls.
  struct feed_follower {
    std::atomic<bool> stop{false};
    std::thread thread;
    std::once_flag joined;
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false; // guarded by mu
    std::unique_ptr<feed_signal::listener> listener;
    void wake() {
      {
        std::lock_guard<std::mutex> g{mu};
        woken = true;
      }
      cv.notify_all();
    }
    // Sleeps until the feed grows past what the follower saw at `seen`, `max_wait` passes,
    // or end().
    void wait(const feed_signal& signal, uint64_t seen, std::chrono::milliseconds max_wait) {
      listener->arm();
      if (signal.commits() == seen && !stop.load()) {
        std::unique_lock<std::mutex> g{mu};
        cv.wait_for(g, max_wait, [&] { return woken; });
        woken = false;
      }
      listener->disarm();
    }
    void end() {
      stop = true;
      wake();
      std::call_once(joined, [this] {
        if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) {
          thread.join();
          listener.reset();
        } else if (thread.joinable()) {
          thread.detach(); // ended from its own on_item: it exits before it waits again
        }
      });
    }
  };
  std::mutex subscriptions_mu;
  std::vector<std::shared_ptr<feed_follower>> subscriptions;
  std::unique_ptr<workflow> saga; // started after the actors, stopped first
  std::unique_ptr<idempotency_retention> retention; // actors on sys: stopped before its wait
  std::unique_ptr<feed_retention> feed_trim;        // likewise
};

} // namespace ordo
