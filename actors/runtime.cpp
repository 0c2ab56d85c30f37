#include "actors/runtime.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/atoms.hpp"
#include "actors/entity_load.hpp"
#include "actors/feed_retention.hpp"
#include "actors/journal_io.hpp"
#include "actors/placement.hpp"
#include "actors/retention.hpp"
#include "actors/scheduler.hpp"
#include "actors/shard_actor.hpp"
#include "domain/assert.hpp"
#include "domain/envelope.hpp"
#include "domain/order_id.hpp"
#include "storage/journal.hpp"

namespace ordo {

namespace {

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

struct runtime::impl {
  runtime_config cfg;
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
    return cfg.cluster.route ? cfg.cluster.route(static_cast<uint16_t>(shard)) : shard_route::local;
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
      cfg.cluster.forward(std::move(env_msg), static_cast<uint16_t>(shard),
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
  std::unique_ptr<saga::dispatcher> saga;           // started after the actors, stopped first
  std::unique_ptr<idempotency_retention> retention; // stopped before the journal closes
  std::unique_ptr<feed_retention> feed_trim;        // likewise
};

runtime::runtime(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

runtime::~runtime() {
  stop();
}

namespace {
// The entity's current state as a snapshot at its last sequence, for feed retention; nullopt
// when its latest snapshot is already that recent.
template <class Model>
caf::expected<std::optional<storage::journal::snapshot_entry>>
current_snapshot(storage::journal& j, const std::string& key) {
  auto loaded = load_entity<Model>(j, key.substr(Model::key_prefix.size()));
  if (auto* f = std::get_if<load_failure>(&loaded))
    return caf::make_error(caf::sec::runtime_error, f->code + ": " + f->message);
  auto& ok = std::get<loaded_entity<Model>>(loaded);
  if (ok.last_seq == 0 || ok.snapshot_seq == ok.last_seq)
    return std::optional<storage::journal::snapshot_entry>{};
  return std::optional{
      storage::journal::snapshot_entry{key, ok.last_seq, ok.state.SerializeAsString()}};
}

caf::expected<std::optional<storage::journal::snapshot_entry>>
current_snapshot_any(storage::journal& j, const std::string& key) {
  if (key.rfind(order_model::key_prefix, 0) == 0) return current_snapshot<order_model>(j, key);
  if (key.rfind(inventory_model::key_prefix, 0) == 0)
    return current_snapshot<inventory_model>(j, key);
  return std::optional<storage::journal::snapshot_entry>{}; // not ours: its events stay
}
} // namespace

caf::expected<std::unique_ptr<runtime>> runtime::start(runtime_config cfg) {
  auto p = std::make_unique<impl>();
  p->cfg = std::move(cfg);
  auto& c = p->cfg;
  if (c.shard_count == 0) return caf::make_error(caf::sec::invalid_argument, "shard_count is 0");
  storage::journal_options jo;
  jo.dir = c.data_dir;
  jo.map_size_bytes = c.map_size_bytes;
  jo.mode = c.sync;
  jo.queue_max_requests = c.journal_queue_max;
  jo.batch_max_requests = c.batch_max_requests;
  const auto wait = c.batch_max_wait.value_or(
      std::chrono::microseconds{c.sync == durability::no_sync ? 0 : 200});
  jo.batch_max_wait_us = static_cast<uint64_t>(wait.count());
  auto j = storage::journal::open(jo);
  if (!j) return j.error();
  p->journal = std::move(*j);
  // Ids never go below the newest stored order's time + 1 (see domain/order_id.hpp).
  uint64_t floor_ms = 0;
  auto newest = p->journal->last_entity_with_prefix(order_model::key_prefix);
  if (!newest) return newest.error();
  if (*newest) {
    auto text = std::string_view(**newest).substr(order_model::key_prefix.size());
    if (auto id = domain::parse_order_id(text)) floor_ms = id->time_ms() + 1;
  }
  p->ids = std::make_unique<domain::order_id_generator>(c.node_id, floor_ms);
  p->env.journal = p->journal.get();
  p->env.ids = p->ids.get();
  p->env.shard_count = c.shard_count;
  p->env.limits = c.limits;
  p->env.now_ms = c.clock ? c.clock : system_now_ms;
  if (c.saga.enabled) p->env.timers.payment_timeout_ms = c.saga.payment_timeout.count();
  p->env.before_decide = c.testing.before_decide;
  p->sys_cfg.set("scheduler.max-threads", c.worker_threads);
  // An idle worker spins briefly, then sleeps on its condition variable until a message from
  // outside wakes it. CAF's default first polls with 50 µs sleeps for ~25 ms: every sleep is a
  // context switch, and a message sent meanwhile (each HTTP request, each journal answer)
  // waits out the sleep — about a third of the node's context switches per request
  // (docs/benchmarks.md, "The request path").
  p->sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  // CAF's work stealing, but a message from outside wakes a sleeping worker once, not twice
  // (actors/scheduler.hpp).
  p->sys_cfg.load<runtime_scheduler>();
  p->sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  p->sys = std::make_unique<caf::actor_system>(p->sys_cfg);
  p->shard_in_flight.reset(new std::atomic<int64_t>[c.shard_count]);
  p->tracking.reset(new std::atomic<bool>[c.shard_count]);
  for (uint32_t s = 0; s < c.shard_count; ++s) {
    p->shard_in_flight[s] = 0;
    p->tracking[s] = false;
  }
  for (uint32_t s = 0; s < c.shard_count; ++s) {
    p->order_shards.push_back(p->sys->spawn(shard_actor<order_model>, &p->env, s));
    p->inventory_shards.push_back(p->sys->spawn(shard_actor<inventory_model>, &p->env, s));
  }
  retention_options ro;
  ro.retention = c.idempotency_retention;
  ro.every = c.retention_every;
  p->retention = std::make_unique<idempotency_retention>(*p->journal, ro, p->env.now_ms);
  feed_retention_options fo;
  fo.retention = c.feed_retention;
  fo.every = c.retention_every;
  p->feed_trim = std::make_unique<feed_retention>(
      *p->journal, fo, p->env.now_ms,
      [j = p->journal.get()](const std::string& key) { return current_snapshot_any(*j, key); });
  auto rt = std::unique_ptr<runtime>(new runtime(std::move(p)));
  auto& q = *rt->impl_;
  if (q.cfg.saga.enabled) {
    auto gateway = q.cfg.saga.gateway;
    if (!gateway) gateway = std::make_shared<saga::simulated_gateway>(q.cfg.saga.simulated);
    // Test-only negative control for the clock-step test (tests/node/clock_test.cpp): the
    // node under test fires timers by the wall clock, as before steady-clock firing.
    if (const char* v = std::getenv("ORDO_TEST_WALL_CLOCK_TIMERS");
        v && std::string_view(v) == "1") {
      q.cfg.saga.testing.wall_clock_timers = true;
      fmt::print(stderr, "[warn] ORDO_TEST_WALL_CLOCK_TIMERS=1: durable timers fire by the wall "
                         "clock (a test's negative control; never use it in production)\n");
    }
    q.saga = std::make_unique<saga::dispatcher>(*rt, *q.journal, q.cfg.saga, std::move(gateway),
                                                q.env.now_ms, q.env.deadlines, q.env.feed);
  }
  return rt;
}

namespace {
v1::Envelope envelope_for(v1::EntityType type, std::string entity, std::string key) {
  v1::Envelope e;
  e.set_schema_version(domain::schema_version_current);
  e.set_entity_type(type);
  e.set_entity_id(std::move(entity));
  e.set_idempotency_key(std::move(key));
  return e;
}
} // namespace

// The one routing rule, for local and forwarded commands alike: an order by the shard in its
// id, a new placement by its idempotency key (retries meet the same shard, placement.hpp), a
// SKU by the hash of its name. A command that names no valid entity gets its failure instead.
std::variant<uint64_t, outcome> runtime::impl::shard_for(const v1::Envelope& e) {
  if (e.has_inventory_command()) {
    if (e.entity_id().empty()) return failure("invalid_sku", "inventory command without a sku");
    return stable_hash(e.entity_id()) % cfg.shard_count;
  }
  if (e.order_command().has_place_order() && e.entity_id().empty()) {
    uint64_t h = e.idempotency_key().empty() ? round_robin++ : stable_hash(e.idempotency_key());
    return h % cfg.shard_count;
  }
  std::string why;
  auto id = domain::parse_order_id(e.entity_id(), &why);
  if (!id || id->shard() >= cfg.shard_count)
    return failure("invalid_order_id",
                   id ? fmt::format("order id {} names shard {}, but this cluster has {}",
                                    e.entity_id(), id->shard(), cfg.shard_count)
                      : fmt::format("'{}' is not an order id: {}", e.entity_id(), why));
  return uint64_t{id->shard()};
}

void runtime::impl::route(v1::Envelope e, completion done, bool forwarded) {
  if (!admit(done)) return;
  auto shard = shard_for(e);
  if (auto* o = std::get_if<outcome>(&shard)) {
    counted(std::move(done))(std::move(*o));
    return;
  }
  auto s = std::get<uint64_t>(shard);
  const bool to_orders = e.entity_type() == v1::ENTITY_TYPE_ORDER;
  if (!forwarded) {
    send(to_orders, s, std::move(e), std::move(done));
    return;
  }
  // A forwarded command is handled only where it belongs, never forwarded again: two nodes
  // with different views cannot bounce it between them.
  shard_in_flight[s]++;
  auto r = route_of(s);
  if (r != shard_route::local) {
    shard_in_flight[s]--;
    auto no = refusal(r, s);
    counted(std::move(done))(
        no ? std::move(*no)
           : failure("not_owner",
                     fmt::format("shard {} of {} is not owned by this node", s, e.entity_id())));
    return;
  }
  send_local(to_orders, s, std::move(e), std::move(done));
}

void runtime::submit_order(const v1::OrderCommand& cmd, std::string key, completion done) {
  auto e = envelope_for(v1::ENTITY_TYPE_ORDER, cmd.order_id(), std::move(key));
  *e.mutable_order_command() = cmd;
  impl_->route(std::move(e), std::move(done), false);
}

void runtime::submit_inventory(const v1::InventoryCommand& cmd, std::string key, completion done) {
  auto e = envelope_for(v1::ENTITY_TYPE_INVENTORY, cmd.sku(), std::move(key));
  *e.mutable_inventory_command() = cmd;
  impl_->route(std::move(e), std::move(done), false);
}

void runtime::submit_forwarded(v1::Envelope e, completion done) {
  bool order = e.entity_type() == v1::ENTITY_TYPE_ORDER && e.has_order_command();
  bool inventory = e.entity_type() == v1::ENTITY_TYPE_INVENTORY && e.has_inventory_command();
  bool keyless_placement =
      order && e.order_command().has_place_order() && e.idempotency_key().empty();
  if ((!order && !inventory) || keyless_placement) {
    // Counted like any other answer (admit first, so in-flight accounting stays symmetric).
    if (!impl_->admit(done)) return;
    impl_->counted(std::move(done))(
        failure("malformed_command", keyless_placement ? "forwarded placement without a key"
                                                       : "forwarded envelope carries no command"));
    return;
  }
  impl_->route(std::move(e), std::move(done), true);
}

uint16_t runtime::shard_of_sku(std::string_view sku) const {
  return static_cast<uint16_t>(stable_hash(sku) % impl_->cfg.shard_count);
}

uint16_t runtime::shard_of_placement(std::string_view key) const {
  return static_cast<uint16_t>(stable_hash(key) % impl_->cfg.shard_count);
}

bool runtime::owns(uint16_t shard) const {
  const auto& c = impl_->cfg.cluster;
  return shard < impl_->cfg.shard_count && (!c.route || c.route(shard) == shard_route::local);
}

namespace {
template <class Submit>
std::future<outcome> as_future(Submit&& submit) {
  auto promise = std::make_shared<std::promise<outcome>>();
  auto fut = promise->get_future();
  submit([promise](outcome o) { promise->set_value(std::move(o)); });
  return fut;
}
} // namespace

std::future<outcome> runtime::submit_order(const v1::OrderCommand& cmd, std::string key) {
  return as_future([&](completion done) { submit_order(cmd, std::move(key), std::move(done)); });
}

std::future<outcome> runtime::submit_inventory(const v1::InventoryCommand& cmd, std::string key) {
  return as_future(
      [&](completion done) { submit_inventory(cmd, std::move(key), std::move(done)); });
}

namespace {
template <class Model>
caf::expected<typename Model::state> read_state(storage::journal& j, std::string_view id) {
  auto loaded = load_entity<Model>(j, std::string(id));
  if (auto* ok = std::get_if<loaded_entity<Model>>(&loaded)) return std::move(ok->state);
  auto& f = std::get<load_failure>(loaded);
  return caf::make_error(caf::sec::runtime_error, f.code + ": " + f.message);
}
} // namespace

namespace {
// In a cluster this node's store holds only its own shards: a read of another node's entity
// must not answer "never created".
caf::error not_owner(std::string_view what, std::string_view id, uint16_t shard) {
  return caf::make_error(
      caf::sec::runtime_error,
      fmt::format("not_owner: {} {} is in shard {}, owned by another node", what, id, shard));
}
} // namespace

caf::expected<v1::OrderState> runtime::order(std::string_view order_id) {
  if (auto shard = domain::shard_of(order_id); shard && !owns(*shard))
    return not_owner("order", order_id, *shard);
  return read_state<order_model>(*impl_->journal, order_id);
}

caf::expected<v1::OrderState> runtime::order_anywhere(std::string_view order_id) {
  auto shard = domain::shard_of(order_id);
  const auto& hook = impl_->cfg.cluster.read_order;
  if (!shard || owns(*shard) || !hook) return order(order_id);
  return hook(std::string(order_id), *shard);
}

caf::expected<v1::InventoryState> runtime::inventory(std::string_view sku) {
  if (auto shard = shard_of_sku(sku); !owns(shard)) return not_owner("SKU", sku, shard);
  return read_state<inventory_model>(*impl_->journal, sku);
}

caf::expected<std::vector<feed_item>> runtime::read_feed(uint64_t after, size_t max) {
  std::vector<feed_item> out;
  std::string bad;
  auto err = impl_->journal->read_feed(
      after, max, [&](uint64_t pos, std::string_view, uint64_t, std::string_view bytes) {
        feed_item item;
        item.position = pos;
        if (!item.event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          bad = fmt::format("feed record at position {} is not a valid envelope", pos);
          return false;
        }
        out.push_back(std::move(item));
        return true;
      });
  if (err) return err;
  if (!bad.empty()) return caf::make_error(caf::sec::runtime_error, "corrupted: " + bad);
  return out;
}

std::unique_ptr<subscription> runtime::subscribe(uint64_t after,
                                                 std::function<bool(const feed_item&)> on_item,
                                                 std::chrono::milliseconds idle_poll) {
  auto sub = std::make_shared<impl::feed_follower>();
  if (impl_->stopped.load()) return std::make_unique<subscription>([] {});
  auto* self = this;
  auto& signal = impl_->env.feed;
  sub->listener = signal.listen([f = sub.get()] { f->wake(); });
  sub->thread = std::thread([self, sub, after, on_item, idle_poll, &signal] {
    uint64_t pos = after;
    while (!sub->stop.load()) {
      const uint64_t seen = signal.commits();
      auto batch = self->read_feed(pos, 1024);
      if (!batch) {
        fmt::print(stderr, "[error] feed subscription stopped at position {}: {}\n", pos,
                   to_string(batch.error()));
        return;
      }
      for (const auto& item : *batch) {
        if (sub->stop.load() || !on_item(item)) return;
        pos = item.position;
      }
      if (batch->empty() && !sub->stop.load()) sub->wait(signal, seen, idle_poll);
    }
  });
  {
    std::lock_guard<std::mutex> g{impl_->subscriptions_mu};
    impl_->subscriptions.push_back(sub);
  }
  return std::make_unique<subscription>([sub] { sub->end(); });
}

feed_signal& runtime::feed_commits() {
  return impl_->env.feed;
}

storage::journal::stats_t runtime::journal_stats() const {
  return impl_->journal->stats();
}

caf::error runtime::fail_stop_error() const {
  return impl_->journal->fail_stop_error();
}

caf::expected<uint64_t> runtime::feed_head() const {
  return impl_->journal->feed_head();
}

caf::error runtime::trim_feed() {
  return impl_->feed_trim ? impl_->feed_trim->round() : caf::error{};
}

caf::error runtime::save_feed_offset(std::string_view name, uint64_t position) {
  return impl_->journal->save_offset(name, position);
}

caf::expected<std::vector<std::pair<std::string, uint64_t>>>
runtime::feed_offsets(std::string_view prefix) const {
  return impl_->journal->list_offsets(prefix);
}

caf::expected<bool> runtime::delete_feed_offset(std::string_view name) {
  return impl_->journal->delete_offset(name);
}

saga::saga_stats runtime::saga_stats() const {
  return impl_->saga ? impl_->saga->stats() : saga::saga_stats{};
}

bool runtime::impl::entity_in_shard(std::string_view entity, uint16_t shard) const {
  if (entity.substr(0, order_model::key_prefix.size()) == order_model::key_prefix) {
    auto s = domain::shard_of(entity.substr(order_model::key_prefix.size()));
    return s && *s == shard;
  }
  if (entity.substr(0, inventory_model::key_prefix.size()) == inventory_model::key_prefix)
    return stable_hash(entity.substr(inventory_model::key_prefix.size())) % cfg.shard_count ==
           shard;
  return false; // the placement pseudo-entity is shared: its records go one by one
}

storage::export_selector runtime::impl::selector(uint16_t shard) const {
  storage::export_selector sel;
  sel.entity = [this, shard](std::string_view e) { return entity_in_shard(e, shard); };
  sel.idempotency_record = [this, shard](std::string_view e, std::string_view key) {
    return e == placement_entity && stable_hash(key) % cfg.shard_count == shard;
  };
  return sel;
}

bool runtime::drain_shard(uint16_t shard, std::chrono::milliseconds timeout) {
  ORDO_ASSERT(shard < impl_->cfg.shard_count, "shard out of range");
  auto until = std::chrono::steady_clock::now() + timeout;
  while (impl_->shard_in_flight[shard].load() > 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

void runtime::release_shard(uint16_t shard) {
  auto& p = *impl_;
  std::shared_lock<std::shared_mutex> alive{p.system_mu};
  if (!p.sys || shard >= p.order_shards.size()) return;
  caf::anon_send(p.order_shards[shard], release_atom::value);
  caf::anon_send(p.inventory_shards[shard], release_atom::value);
}

caf::expected<storage::export_batch> runtime::export_shard(uint16_t shard, std::string_view resume,
                                                           size_t max_bytes) const {
  return impl_->journal->export_records(impl_->selector(shard), resume, max_bytes);
}

void runtime::track_shard(uint16_t shard) {
  auto& p = *impl_;
  ORDO_ASSERT(shard < p.cfg.shard_count, "shard out of range");
  std::lock_guard<std::mutex> g{p.tracked_mu};
  p.tracked[shard] = shard_changes{};
  p.tracking[shard] = true;
}

shard_changes runtime::take_tracked(uint16_t shard) {
  auto& p = *impl_;
  ORDO_ASSERT(shard < p.cfg.shard_count, "shard out of range");
  std::lock_guard<std::mutex> g{p.tracked_mu};
  p.tracking[shard] = false;
  auto it = p.tracked.find(shard);
  if (it == p.tracked.end()) {
    shard_changes none;
    none.overflow = true; // never tracked: nothing is known, copy everything
    return none;
  }
  auto out = std::move(it->second);
  p.tracked.erase(it);
  return out;
}

caf::expected<std::vector<storage::entity_records>>
runtime::export_changes(const std::vector<std::string>& entities,
                        const std::vector<std::string>& placement_keys) const {
  std::vector<std::pair<std::string, std::string>> records;
  records.reserve(placement_keys.size());
  for (const auto& k : placement_keys)
    records.emplace_back(std::string(placement_entity), k);
  return impl_->journal->export_named(entities, records);
}

caf::error runtime::import_records(const std::vector<storage::entity_records>& batch) {
  auto err = impl_->journal->import_records(batch);
  // Imported timers were scheduled on the previous owner: the saga adopts them (a steady
  // deadline of min(wall deadline, now + timeout), actors/timer_deadlines.hpp).
  if (!err) impl_->env.deadlines.request_scan();
  return err;
}

caf::expected<uint64_t> runtime::drop_shard_timers(uint16_t shard) {
  auto sel = impl_->selector(shard);
  auto dropped = impl_->journal->drop_timers(sel);
  if (dropped) impl_->env.deadlines.forget_if(sel.entity);
  return dropped;
}

runtime_stats runtime::stats() const {
  auto& p = *impl_;
  runtime_stats s;
  s.submitted = p.submitted.load();
  s.answered = p.answered.load();
  s.overloaded = p.overloaded_count.load();
  s.in_flight = p.in_flight.load();
  s.activations = p.env.counters.activations.load();
  s.passivations = p.env.counters.passivations.load();
  s.crashes = p.env.counters.crashes.load();
  s.quarantined = p.env.counters.quarantined.load();
  s.active = p.env.counters.active.load();
  s.idempotency_expired = p.retention ? p.retention->expired() : 0;
  s.feed_truncated = p.feed_trim ? p.feed_trim->removed() : 0;
  s.feed_snapshots = p.feed_trim ? p.feed_trim->snapshots() : 0;
  return s;
}

void runtime::stop(std::chrono::milliseconds drain) {
  auto& p = *impl_;
  if (p.stopped.exchange(true)) return;
  if (p.saga) p.saga->stop(); // first: nothing new is started while we drain
  p.accepting = false;
  {
    std::lock_guard<std::mutex> g{p.subscriptions_mu};
    for (auto& s : p.subscriptions)
      s->end();
    p.subscriptions.clear();
  }
  auto deadline = std::chrono::steady_clock::now() + drain;
  while (p.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  for (auto& s : p.order_shards)
    caf::anon_send(s, stop_atom::value);
  for (auto& s : p.inventory_shards)
    caf::anon_send(s, stop_atom::value);
  p.sys->await_all_actors_done();
  std::unique_lock<std::shared_mutex> teardown{p.system_mu};
  p.order_shards.clear();
  p.inventory_shards.clear();
  p.sys.reset();
  if (p.retention) p.retention->stop();
  if (p.feed_trim) p.feed_trim->stop();
  p.journal->close(); // drains the writer queue, joins it, closes LMDB
}

} // namespace ordo
