// The runtime's front door (include/ordo/runtime.hpp): opening the store and starting the
// actors, admitting and routing commands to their shard, reads of committed state, counters,
// stop. The feed is served by feed_follow.cpp, handoff by shard_admin.cpp; the saga is attached
// by actors/start.cpp.
#include "ordo/runtime.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <variant>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/runtime/entity_load.hpp"
#include "actors/runtime/journal_io.hpp"
#include "actors/runtime/placement.hpp"
#include "actors/runtime/runtime_impl.hpp"
#include "actors/runtime/scheduler.hpp"
#include "actors/runtime/shard_actor.hpp"
#include "domain/assert.hpp"
#include "domain/envelope.hpp"
#include "domain/order_id.hpp"
#include "domain/snapshot.hpp"
#include "domain/validation.hpp"
#include "storage/journal.hpp"

namespace ordo {

namespace {

int64_t system_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

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
      storage::journal::snapshot_entry{key, ok.last_seq, domain::encode_snapshot(ok.state)}};
}

caf::expected<std::optional<storage::journal::snapshot_entry>>
current_snapshot_any(storage::journal& j, const std::string& key) {
  if (key.rfind(order_model::key_prefix, 0) == 0) return current_snapshot<order_model>(j, key);
  if (key.rfind(inventory_model::key_prefix, 0) == 0)
    return current_snapshot<inventory_model>(j, key);
  return std::optional<storage::journal::snapshot_entry>{}; // not ours: its events stay
}

void configure_scheduler(runtime::impl& p) {
  const auto& c = p.cfg;
  p.sys_cfg.set("logger.verbosity", caf::atom("quiet"));
  if (c.testing.simulated) {
    // One job at a time, on the test's thread (runtime_config::testing).
    p.sys_cfg.set("scheduler.policy", caf::atom("testing"));
    p.env.deliver = c.testing.deliver;
    ORDO_ASSERT(p.env.deliver && c.testing.drive, "a simulated runtime needs deliver and drive");
    return;
  }
  p.sys_cfg.set("scheduler.max-threads", c.worker_threads);
  // An idle worker spins briefly, then sleeps on its condition variable until a message from
  // outside wakes it. CAF's default first polls with 50 µs sleeps for ~25 ms: every sleep is a
  // context switch, and a message sent meanwhile (each HTTP request, each journal answer)
  // waits out the sleep — about a third of the node's context switches per request
  // (docs/benchmarks.md, "The request path").
  p.sys_cfg.set("work-stealing.moderate-poll-attempts", size_t{0});
  // CAF's work stealing, but a message from outside wakes a sleeping worker once, not twice
  // (actors/scheduler.hpp).
  p.sys_cfg.load<runtime_scheduler>();
}
} // namespace

caf::expected<std::unique_ptr<runtime>> runtime_internals::open(runtime_config cfg,
                                                                 cluster_hooks cluster) {
  auto p = std::make_unique<runtime::impl>();
  p->cfg = std::move(cfg);
  p->cluster = std::move(cluster);
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
  configure_scheduler(*p);
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
  p->retention = std::make_unique<idempotency_retention>(*p->sys, *p->journal, ro, p->env.now_ms);
  feed_retention_options fo;
  fo.retention = c.feed_retention;
  fo.every = c.retention_every;
  p->feed_trim = std::make_unique<feed_retention>(
      *p->sys, *p->journal, fo, p->env.now_ms,
      [j = p->journal.get()](const std::string& key) { return current_snapshot_any(*j, key); });
  auto rt = std::unique_ptr<runtime>(new runtime(std::move(p)));
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

void runtime_internals::submit_forwarded(runtime& rt, v1::Envelope e, completion done) {
  auto& p = *rt.impl_;
  bool order = e.entity_type() == v1::ENTITY_TYPE_ORDER && e.has_order_command();
  bool inventory = e.entity_type() == v1::ENTITY_TYPE_INVENTORY && e.has_inventory_command();
  bool keyless_placement =
      order && e.order_command().has_place_order() && e.idempotency_key().empty();
  if ((!order && !inventory) || keyless_placement) {
    // Counted like any other answer (admit first, so in-flight accounting stays symmetric).
    if (!p.admit(done)) return;
    p.counted(std::move(done))(
        failure("malformed_command", keyless_placement ? "forwarded placement without a key"
                                                       : "forwarded envelope carries no command"));
    return;
  }
  p.route(std::move(e), std::move(done), true);
}

uint16_t runtime_internals::shard_of_sku(const runtime& rt, std::string_view sku) {
  return static_cast<uint16_t>(stable_hash(sku) % rt.impl_->cfg.shard_count);
}

uint16_t runtime_internals::shard_of_placement(const runtime& rt, std::string_view key) {
  return static_cast<uint16_t>(stable_hash(key) % rt.impl_->cfg.shard_count);
}

bool runtime_internals::owns(const runtime& rt, uint16_t shard) {
  const auto& c = rt.impl_->cluster;
  return shard < rt.impl_->cfg.shard_count && (!c.route || c.route(shard) == shard_route::local);
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
  std::string why;
  if (!domain::parse_order_id(order_id, &why))
    return caf::make_error(caf::sec::runtime_error,
                           fmt::format("invalid_order_id: '{}' is not an order id: {}", order_id, why));
  if (auto shard = domain::shard_of(order_id); shard && !runtime_internals::owns(*this, *shard))
    return not_owner("order", order_id, *shard);
  return read_state<order_model>(*impl_->journal, order_id);
}

caf::expected<v1::OrderState> runtime_internals::order_anywhere(runtime& rt,
                                                                 std::string_view order_id) {
  auto shard = domain::shard_of(order_id);
  const auto& hook = rt.impl_->cluster.read_order;
  if (!shard || owns(rt, *shard) || !hook) return rt.order(order_id);
  return hook(std::string(order_id), *shard);
}

caf::expected<v1::InventoryState> runtime::inventory(std::string_view sku) {
  if (auto bad = domain::check_id("sku", sku))
    return caf::make_error(caf::sec::runtime_error, "invalid_sku: " + bad->message());
  if (auto shard = runtime_internals::shard_of_sku(*this, sku);
      !runtime_internals::owns(*this, shard)) return not_owner("SKU", sku, shard);
  return read_state<inventory_model>(*impl_->journal, sku);
}

ordo::journal_stats runtime::journal_stats() const {
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

void runtime_internals::attach_workflow(runtime& rt, std::unique_ptr<workflow> w) {
  ORDO_ASSERT(!rt.impl_->saga, "one workflow per runtime");
  rt.impl_->saga = std::move(w);
}

storage::journal& runtime_internals::journal(runtime& rt) {
  return *rt.impl_->journal;
}

runtime_env& runtime_internals::env(runtime& rt) {
  return rt.impl_->env;
}

caf::actor_system& runtime_internals::system(runtime& rt) {
  return *rt.impl_->sys;
}

const runtime_config& runtime_internals::config(const runtime& rt) {
  return rt.impl_->cfg;
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
  // A simulated runtime's work runs only when the test's thread drives it (testing.drive).
  const auto& drive = p.cfg.testing.drive;
  auto deadline = std::chrono::steady_clock::now() + drain;
  while (p.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    if (drive)
      drive();
    else
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  for (auto& s : p.order_shards)
    caf::anon_send(s, stop_atom::value);
  for (auto& s : p.inventory_shards)
    caf::anon_send(s, stop_atom::value);
  if (p.retention) p.retention->stop(); // their actors' timers would hold the wait below
  if (p.feed_trim) p.feed_trim->stop();
  if (drive) {
    for (int i = 0; i < 100'000 && p.sys->registry().running() > 0; ++i)
      drive();
    ORDO_ASSERT(p.sys->registry().running() == 0, "simulated actors did not stop");
  }
  p.sys->await_all_actors_done();
  std::unique_lock<std::shared_mutex> teardown{p.system_mu};
  p.order_shards.clear();
  p.inventory_shards.clear();
  p.sys.reset();
  p.journal->close(); // drains the writer queue, joins it, closes LMDB
}

} // namespace ordo
