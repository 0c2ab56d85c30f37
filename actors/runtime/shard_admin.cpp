// Handing a shard over (shard_admin.hpp): draining, copying, tracking what changed, importing.
#include "actors/runtime/shard_admin.hpp"

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "actors/runtime/placement.hpp"
#include "actors/runtime/runtime_impl.hpp"
#include "domain/assert.hpp"

namespace ordo {

shard_admin::shard_admin(runtime& rt) : p_(runtime_internals::impl_of(rt)) {}

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

bool shard_admin::drain_shard(uint16_t shard, std::chrono::milliseconds timeout) {
  ORDO_ASSERT(shard < p_.cfg.shard_count, "shard out of range");
  auto until = std::chrono::steady_clock::now() + timeout;
  while (p_.shard_in_flight[shard].load() > 0) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }
  return true;
}

void shard_admin::release_shard(uint16_t shard) {
  auto& p = p_;
  std::shared_lock<std::shared_mutex> alive{p.system_mu};
  if (!p.sys || shard >= p.order_shards.size()) return;
  caf::anon_send(p.order_shards[shard], release_atom::value);
  caf::anon_send(p.inventory_shards[shard], release_atom::value);
}

caf::expected<storage::export_batch> shard_admin::export_shard(uint16_t shard, std::string_view resume,
                                                           size_t max_bytes) const {
  return p_.journal->export_records(p_.selector(shard), resume, max_bytes);
}

void shard_admin::track_shard(uint16_t shard) {
  auto& p = p_;
  ORDO_ASSERT(shard < p.cfg.shard_count, "shard out of range");
  std::lock_guard<std::mutex> g{p.tracked_mu};
  p.tracked[shard] = shard_changes{};
  p.tracking[shard] = true;
}

shard_changes shard_admin::take_tracked(uint16_t shard) {
  auto& p = p_;
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
shard_admin::export_changes(const std::vector<std::string>& entities,
                        const std::vector<std::string>& placement_keys) const {
  std::vector<std::pair<std::string, std::string>> records;
  records.reserve(placement_keys.size());
  for (const auto& k : placement_keys)
    records.emplace_back(std::string(placement_entity), k);
  return p_.journal->export_named(entities, records);
}

caf::error shard_admin::import_records(const std::vector<storage::entity_records>& batch) {
  auto err = p_.journal->import_records(batch);
  // Imported timers were scheduled on the previous owner: the saga adopts them (a steady
  // deadline of min(wall deadline, now + timeout), actors/timer_deadlines.hpp).
  if (!err) p_.env.deadlines.request_scan();
  return err;
}

caf::expected<uint64_t> shard_admin::drop_shard_timers(uint16_t shard) {
  auto sel = p_.selector(shard);
  auto dropped = p_.journal->drop_timers(sel);
  if (dropped) p_.env.deadlines.forget_if(sel.entity);
  return dropped;
}

} // namespace ordo
