// Shard handoff (docs/cluster.md, "Membership change"): the control messages of a membership
// change as each node handles them, and the move of a shard out of this node.
//
// The coordinator (membership_change.cpp) announces the new membership to every node of the
// old and the new one (prepare), moves the shards whose owner changes one at a time, then
// commits the new membership everywhere. A move is the old owner's job:
//   1. pre-copy while serving: record which entities the shard's commands touch (at answer
//      time), and stream all the shard's records to N in bounded batches (N writes each in
//      one synced transaction and does not serve them; import is idempotent and extends);
//   2. persist "moving out to N at epoch E" — from here on it never serves the shard again,
//      also after a restart (commands answer shard_moving: 503, retry);
//   3. wait until the shard's in-flight commands are answered, end its activations;
//   4. copy again only what was touched since 1 (everything, if that was not recorded);
//   5. tell N to activate: N persists "owned at E" and serves;
//   6. persist "moved to N at E" (answering not_owner + the new owner from then on) and drop
//      the shard's timers (N fires them now).
// A failure before 2 changes nothing; between 2 and 5 it leaves the shard stopped at the old
// owner, which retries on its own (resume_moves, also after a restart); never two owners: the
// old owner stopped serving at 2, the new one starts at 5.

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/core.h>

#include "actors/runtime/internals.hpp"
#include "actors/runtime/shard_admin.hpp"
#include "actors/cluster/link_impl.hpp"
#include "actors/cluster/shard_map.hpp"
#include "ordo/runtime.hpp"

namespace ordo::cluster {

void log_line(const cluster_link::impl& p, const std::string& event, const std::string& rest) {
  // The link has no logger of its own; stderr lines in the node's logfmt shape.
  fmt::print(stderr, "level=info event={} node={} {}\n", event, p.opt.self, rest);
}

namespace {

v1::ControlAnswer answer(std::string error = {}) {
  v1::ControlAnswer a;
  a.set_error(std::move(error));
  return a;
}

std::string text(const caf::error& e) {
  return caf::to_string(e);
}

v1::ShardRecords to_proto(uint64_t epoch, uint16_t shard, const storage::export_batch& b) {
  v1::ShardRecords out;
  out.set_epoch(epoch);
  out.set_shard(shard);
  for (const auto& e : b.entities) {
    auto* r = out.add_entities();
    r->set_entity(e.entity);
    for (const auto& ev : e.events) {
      auto* x = r->add_events();
      x->set_seq(ev.seq);
      x->set_bytes(ev.bytes);
    }
    if (e.latest_snapshot) {
      r->set_has_snapshot(true);
      r->set_snapshot_seq(e.latest_snapshot->seq);
      r->set_snapshot(e.latest_snapshot->bytes);
    }
    for (const auto& i : e.idempotency) {
      auto* x = r->add_idempotency();
      x->set_key(i.key);
      x->set_created_ms(i.created_ms);
      x->set_result(i.result);
    }
    for (const auto& t : e.timers) {
      auto* x = r->add_timers();
      x->set_timer_id(t.timer_id);
      x->set_due_ms(t.due_ms);
      x->set_payload(t.payload);
    }
  }
  return out;
}

std::vector<storage::entity_records> from_proto(const v1::ShardRecords& in) {
  std::vector<storage::entity_records> out;
  for (const auto& r : in.entities()) {
    storage::entity_records e;
    e.entity = r.entity();
    for (const auto& ev : r.events())
      e.events.push_back({ev.seq(), ev.bytes()});
    if (r.has_snapshot()) e.latest_snapshot = storage::snapshot{r.snapshot_seq(), r.snapshot()};
    for (const auto& i : r.idempotency())
      e.idempotency.push_back({i.key(), i.created_ms(), i.result()});
    for (const auto& t : r.timers())
      e.timers.push_back({t.timer_id(), t.due_ms(), t.payload()});
    out.push_back(std::move(e));
  }
  return out;
}

// What one copy pass sent, for the log line.
struct copy_stats {
  uint64_t entities = 0, batches = 0;
  std::chrono::steady_clock::duration exporting{};
  bool already_active = false; // the new owner serves the shard already (an earlier attempt)
};

// Sends one batch of records; "" when taken.
std::string send_records(cluster_link::impl& p, uint16_t shard, uint16_t to, uint64_t epoch,
                         const storage::export_batch& batch, copy_stats& st) {
  if (batch.entities.empty()) return {};
  ++st.batches;
  v1::ClusterControl msg;
  *msg.mutable_records() = to_proto(epoch, shard, batch);
  auto a = p.control(to, std::move(msg), p.opt.handoff_call_timeout);
  if (!a) return fmt::format("sending records to node {}: {}", to, text(a.error()));
  if (a->error() == "already_active") {
    st.already_active = true;
    return {};
  }
  if (!a->error().empty()) return fmt::format("node {} refused records: {}", to, a->error());
  st.entities += batch.entities.size();
  return {};
}

// Copies every record of the shard to `to`, in bounded batches.
std::string copy_all(cluster_link::impl& p, uint16_t shard, uint16_t to, uint64_t epoch,
                     copy_stats& st) {
  std::string resume;
  for (;;) {
    if (p.stopping) return "stopping";
    auto te = std::chrono::steady_clock::now();
    auto batch = shard_admin(*p.rt).export_shard(shard, resume, p.opt.handoff_batch_bytes);
    st.exporting += std::chrono::steady_clock::now() - te;
    if (!batch) return "export: " + text(batch.error());
    if (auto err = send_records(p, shard, to, epoch, *batch, st); !err.empty()) return err;
    if (batch->done || st.already_active) return {};
    resume = batch->resume;
  }
}

// Copies the entities and placement records named in `changes` (a bounded number per batch).
std::string copy_changes(cluster_link::impl& p, uint16_t shard, uint16_t to, uint64_t epoch,
                         const shard_changes& changes, copy_stats& st) {
  constexpr size_t per_batch = 256;
  std::vector<std::string> entities(changes.entities.begin(), changes.entities.end());
  std::vector<std::string> keys(changes.placement_keys.begin(), changes.placement_keys.end());
  for (size_t e = 0, k = 0; e < entities.size() || k < keys.size();) {
    if (p.stopping) return "stopping";
    std::vector<std::string> some_entities, some_keys;
    for (; e < entities.size() && some_entities.size() < per_batch; ++e)
      some_entities.push_back(std::move(entities[e]));
    for (; k < keys.size() && some_keys.size() < per_batch; ++k)
      some_keys.push_back(std::move(keys[k]));
    auto te = std::chrono::steady_clock::now();
    auto records = shard_admin(*p.rt).export_changes(some_entities, some_keys);
    st.exporting += std::chrono::steady_clock::now() - te;
    if (!records) return "export: " + text(records.error());
    storage::export_batch batch;
    batch.entities = std::move(*records);
    if (auto err = send_records(p, shard, to, epoch, batch, st); !err.empty()) return err;
    if (st.already_active) return {};
  }
  return {};
}

using ms = std::chrono::duration<double, std::milli>;

// Steps 2-5 for a shard already persisted as moving out (step 1). `changes`: what commands
// touched since a pre-copy (only those are copied again); nullptr: copy everything.
std::string finish_move(cluster_link::impl& p, uint16_t shard, uint16_t to, uint64_t epoch,
                        std::chrono::steady_clock::time_point stopped_at, bool began_here,
                        const copy_stats* precopy) {
  auto& rt = *p.rt;
  if (!shard_admin(rt).drain_shard(shard, p.opt.drain_timeout)) {
    shard_admin(rt).take_tracked(shard);
    // Nothing was activated yet: it is safe to serve the shard again here.
    if (began_here) p.own->abort_move_out(shard);
    return fmt::format("shard {} still had commands in flight after {} ms", shard,
                       p.opt.drain_timeout.count());
  }
  shard_admin(rt).release_shard(shard);
  // Drained: every command that touched the shard has been answered, so it is recorded.
  auto changes = shard_admin(rt).take_tracked(shard);
  copy_stats st;
  auto err = precopy && !changes.overflow ? copy_changes(p, shard, to, epoch, changes, st)
                                          : copy_all(p, shard, to, epoch, st);
  if (!err.empty()) return err;
  v1::ClusterControl act;
  act.mutable_activate()->set_epoch(epoch);
  act.mutable_activate()->set_shard(shard);
  auto a = p.control(to, std::move(act), p.opt.handoff_call_timeout);
  if (!a) return fmt::format("activating on node {}: {}", to, text(a.error()));
  if (!a->error().empty()) return fmt::format("node {} did not activate: {}", to, a->error());
  if (auto e = p.own->finish_move_out(shard)) return "recording the move: " + text(e);
  p.moved_out++;
  if (auto dropped = shard_admin(rt).drop_shard_timers(shard); !dropped)
    log_line(p, "handoff_timers_not_dropped",
             fmt::format("shard={} error=\"{}\"", shard, text(dropped.error())));
  // ms: how long the shard refused commands here (drain, final copy, activation); the
  // pre-copy ran while it served.
  log_line(p, "shard_moved_out",
           fmt::format("shard={} to={} epoch={} precopy_entities={} precopy_ms={:.1f} "
                       "entities={} batches={} ms={:.1f} export_ms={:.1f}",
                       shard, to, epoch, precopy ? precopy->entities : 0,
                       precopy ? ms(precopy->exporting).count() : 0.0, st.entities, st.batches,
                       ms(std::chrono::steady_clock::now() - stopped_at).count(),
                       ms(st.exporting).count()));
  return {};
}

// A move that finds the shard stopped already (a restart, a retry): copy everything.
std::string move_out(cluster_link::impl& p, uint16_t shard, uint16_t to, uint64_t epoch) {
  return finish_move(p, shard, to, epoch, std::chrono::steady_clock::now(), false, nullptr);
}

// A move of a shard this node serves: copy while serving, then stop and copy what changed.
std::string move_live(cluster_link::impl& p, uint16_t shard, uint16_t to, uint64_t epoch) {
  auto& rt = *p.rt;
  shard_admin(rt).track_shard(shard);
  copy_stats pre;
  auto t_pre = std::chrono::steady_clock::now();
  if (auto err = copy_all(p, shard, to, epoch, pre); !err.empty() || pre.already_active) {
    shard_admin(rt).take_tracked(shard);
    return err.empty() ? "the new owner already serves the shard" : err;
  }
  pre.exporting = std::chrono::steady_clock::now() - t_pre; // the whole pre-copy, for the log
  if (auto e = p.own->begin_move_out(shard, to, epoch)) {
    shard_admin(rt).take_tracked(shard);
    return text(e);
  }
  // Testing only (cluster.handoff_pause_ms): hold the shard stopped so a test can kill a node
  // in the middle of a handoff.
  for (auto until = std::chrono::steady_clock::now() + p.opt.handoff_pause;
       std::chrono::steady_clock::now() < until && !p.stopping;)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  return finish_move(p, shard, to, epoch, std::chrono::steady_clock::now(), true, &pre);
}

v1::ControlAnswer handle_move(cluster_link::impl& p, const v1::MoveShard& m) {
  auto shard = static_cast<uint16_t>(m.shard());
  auto to = static_cast<uint16_t>(m.to_node());
  if (shard >= p.own->shard_count() || to == 0 || to == p.opt.self) return answer("invalid move");
  std::lock_guard<std::mutex> one_at_a_time{p.move_mu};
  bool live = false;
  switch (p.own->place(shard)) {
  case shard_route::remote:
    if (p.own->owner(shard) == to) return answer(); // done before (a re-sent move)
    return answer(fmt::format("node {} does not own shard {} (node {} does)", p.opt.self, shard,
                              p.own->owner(shard)));
  case shard_route::unknown:
    return answer(fmt::format("node {} does not own shard {}", p.opt.self, shard));
  case shard_route::moving: {
    auto moves = p.own->moving_out();
    auto it = std::find_if(moves.begin(), moves.end(),
                           [&](const v1::MoveOut& x) { return x.shard() == shard; });
    if (it != moves.end() && it->to_node() != to)
      return answer(fmt::format("shard {} is already moving to node {}", shard, it->to_node()));
    break; // resume
  }
  case shard_route::local:
    live = true;
    break;
  }
  auto err = live ? move_live(p, shard, to, m.epoch()) : move_out(p, shard, to, m.epoch());
  // The shard is stopped here until its move completes: keep trying on our own (the new
  // owner may be back before anyone re-runs the change).
  if (!err.empty() && p.own->place(shard) == shard_route::moving) start_resuming(p);
  return answer(err);
}

v1::ControlAnswer handle_records(cluster_link::impl& p, const v1::ShardRecords& r) {
  auto shard = static_cast<uint16_t>(r.shard());
  if (shard >= p.own->shard_count()) return answer("invalid shard");
  if (p.own->place(shard) == shard_route::local) return answer("already_active");
  auto batch = from_proto(r);
  if (auto e = shard_admin(*p.rt).import_records(batch)) return answer("import: " + text(e));
  p.imported += batch.size();
  auto a = answer();
  a.set_imported(batch.size());
  return a;
}

v1::ControlAnswer handle_activate(cluster_link::impl& p, const v1::ActivateShard& a,
                                  uint16_t from) {
  auto shard = static_cast<uint16_t>(a.shard());
  if (shard >= p.own->shard_count()) return answer("invalid shard");
  if (p.own->place(shard) == shard_route::local) return answer(); // a re-sent activate
  // Activations of this shard left from an earlier time here were ended when it moved away;
  // new ones load what was just imported. Refused unless the pending change names this move.
  if (auto e = p.own->activate(shard, a.epoch(), from)) return answer(text(e));
  p.moved_in++;
  log_line(p, "shard_moved_in", fmt::format("shard={} epoch={}", shard, a.epoch()));
  return answer();
}

} // namespace

v1::ControlAnswer handle_control(cluster_link::impl& p, const v1::ClusterControl& msg) {
  switch (msg.body_case()) {
  case v1::ClusterControl::kChange:
    if (auto e = p.own->prepare(msg.cluster_id(), msg.change())) return answer(text(e));
    return answer();
  case v1::ClusterControl::kMove:
    return handle_move(p, msg.move());
  case v1::ClusterControl::kRecords:
    return handle_records(p, msg.records());
  case v1::ClusterControl::kActivate:
    return handle_activate(p, msg.activate(), static_cast<uint16_t>(msg.from_node()));
  case v1::ClusterControl::kCommit:
    if (auto e = p.own->commit(msg.commit())) return answer(text(e));
    return answer();
  case v1::ClusterControl::BODY_NOT_SET:
    break;
  }
  return answer("empty control message");
}

void start_resuming(cluster_link::impl& p) {
  if (p.resuming.exchange(true)) return;
  bool started = p.spawn_worker([&p] {
    resume_moves(p);
    p.resuming = false;
  });
  if (!started) p.resuming = false; // stopping, or at the worker cap: the next failure retries
}

void resume_moves(cluster_link::impl& p) {
  // Retried until done or stopping: the shard serves nowhere until its move completes.
  for (int attempt = 0; !p.stopping; ++attempt) {
    auto moves = p.own->moving_out();
    if (moves.empty()) return;
    for (const auto& m : moves) {
      std::string err;
      {
        std::lock_guard<std::mutex> g{p.move_mu};
        err = move_out(p, static_cast<uint16_t>(m.shard()), static_cast<uint16_t>(m.to_node()),
                       m.epoch());
      }
      if (!err.empty())
        log_line(p, "handoff_retry",
                 fmt::format("shard={} to={} attempt={} error=\"{}\"", m.shard(), m.to_node(),
                             attempt, err));
    }
    for (int i = 0; i < 10 && !p.stopping; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

} // namespace ordo::cluster
