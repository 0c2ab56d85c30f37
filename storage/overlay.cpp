#include "storage/overlay.hpp"

#include <functional>

#include "storage/check.hpp"

namespace ordo::storage {

void overlay::set_timer(entity_tail& t, const std::string& entity, const std::string& id,
                        const timer_schedule* s, uint64_t batch) {
  auto& slot = t.timers[id];
  if (slot.schedule != nullptr) due_.erase({slot.schedule->due_ms, entity, id});
  slot.schedule = s;
  slot.batch = batch;
  if (s != nullptr) due_.insert({s->due_ms, entity, id});
}

uint64_t overlay::idem_hash(std::string_view entity, std::string_view key) {
  const uint64_t e = std::hash<std::string_view>{}(entity);
  return (e ^ (e >> 29)) * 0x9E3779B97F4A7C15ULL ^ std::hash<std::string_view>{}(key);
}

overlay::idem_map::const_iterator overlay::find_idem(std::string_view entity,
                                                     std::string_view key) const {
  auto [it, end] = idem_.equal_range(idem_hash(entity, key));
  for (; it != end; ++it)
    if (it->second.rec->entity == entity && it->second.rec->key == key) return it;
  return idem_.end();
}

void overlay::drop_idempotency(const append_request& r, uint64_t position) {
  for (const auto& rec : r.idempotency) {
    auto ii = find_idem(rec.entity, rec.key);
    if (ii != idem_.end() && ii->second.batch <= position) idem_.erase(ii);
  }
}

void overlay::add(batch_ptr b) {
  ORDO_STORAGE_CHECK(batches_.empty() || b->position == batches_.back()->position + 1,
                     "overlay batch {} after {}", b->position, batches_.back()->position);
  const uint64_t pos = b->position;
  for (const auto& lr : b->requests) {
    const auto& r = lr.req;
    auto& t = entities_[r.entity];
    if (!r.events.empty()) {
      if (feed_.empty()) feed_first_ = lr.first_position;
      ORDO_STORAGE_CHECK(lr.first_position == feed_first_ + feed_.size(),
                         "overlay feed position {} where {} is due", lr.first_position,
                         feed_first_ + feed_.size());
      if (t.positions.empty()) t.first_seq = r.expected_seq + 1;
      ORDO_STORAGE_CHECK(t.first_seq + t.positions.size() == r.expected_seq + 1,
                         "overlay seq {} of {} out of order", r.expected_seq + 1, r.entity);
      for (uint32_t i = 0; i < r.events.size(); ++i) {
        feed_.push_back(feed_ref{&lr, i});
        t.positions.push_back(lr.first_position + i);
      }
    }
    if (r.snapshot && (t.snap == nullptr || t.snap->seq <= r.snapshot->seq)) {
      t.snap = &*r.snapshot;
      t.snap_batch = pos;
    }
    for (const auto& id : r.timer_cancels)
      set_timer(t, r.entity, id, nullptr, pos);
    for (const auto& s : r.timer_schedules)
      set_timer(t, r.entity, s.timer_id, &s, pos);
    for (const auto& rec : r.idempotency) {
      ORDO_STORAGE_CHECK(!rec.entity.empty(), "overlay idempotency record of {} without entity",
                         r.entity);
      if (auto ii = find_idem(rec.entity, rec.key); ii != idem_.end())
        idem_.erase(ii); // as a map would (the writer refuses a pair the tail holds)
      idem_.emplace(idem_hash(rec.entity, rec.key), idem_ref{&rec, pos});
    }
    records_ += logfmt::record_count(r);
  }
  bytes_ += b->bytes;
  batches_.push_back(std::move(b));
}

void overlay::remove_through(uint64_t position) {
  while (!batches_.empty() && batches_.front()->position <= position) {
    const auto& b = *batches_.front();
    std::vector<const std::string*> touched; // entities to drop once the whole batch is out
    for (const auto& lr : b.requests) {
      const auto& r = lr.req;
      auto it = entities_.find(r.entity);
      if (it == entities_.end()) {
        // Nothing of this request is indexed any more (e.g. idempotency records only, or a
        // snapshot and timers a newer batch superseded that an earlier removal dropped).
        ORDO_STORAGE_CHECK(r.events.empty(), "overlay lost entity {}", r.entity);
        drop_idempotency(r, position);
        records_ -= logfmt::record_count(r);
        continue;
      }
      auto& t = it->second;
      for (size_t i = 0; i < r.events.size(); ++i) {
        ORDO_STORAGE_CHECK(!feed_.empty() && feed_.front().req == &lr, "overlay feed out of step");
        feed_.pop_front();
        ++feed_first_;
        t.positions.pop_front();
        ++t.first_seq;
      }
      if (t.snap != nullptr && t.snap_batch <= position) t.snap = nullptr;
      auto drop_timer = [&](const std::string& id) {
        auto ti = t.timers.find(id);
        if (ti == t.timers.end() || ti->second.batch > position) return;
        if (ti->second.schedule != nullptr) due_.erase({ti->second.schedule->due_ms, r.entity, id});
        t.timers.erase(ti);
      };
      for (const auto& id : r.timer_cancels)
        drop_timer(id);
      for (const auto& s : r.timer_schedules)
        drop_timer(s.timer_id);
      touched.push_back(&r.entity);
      drop_idempotency(r, position);
      records_ -= logfmt::record_count(r);
    }
    for (const auto* entity : touched) {
      auto it = entities_.find(*entity);
      if (it != entities_.end() && it->second.positions.empty() && it->second.snap == nullptr &&
          it->second.timers.empty())
        entities_.erase(it);
    }
    bytes_ -= b.bytes;
    batches_.pop_front();
  }
}

std::optional<uint64_t> overlay::last_seq(std::string_view entity) const {
  auto it = entities_.find(std::string{entity});
  if (it == entities_.end() || it->second.positions.empty()) return std::nullopt;
  return it->second.first_seq + it->second.positions.size() - 1;
}

uint64_t overlay::first_seq(std::string_view entity) const {
  auto it = entities_.find(std::string{entity});
  if (it == entities_.end() || it->second.positions.empty()) return 0;
  return it->second.first_seq;
}

const overlay::feed_ref* overlay::at_position(uint64_t position) const {
  if (feed_.empty() || position < feed_first_ || position - feed_first_ >= feed_.size())
    return nullptr;
  return &feed_[position - feed_first_];
}

void overlay::events(std::string_view entity, uint64_t from,
                     std::vector<std::pair<uint64_t, std::string>>& out) const {
  auto it = entities_.find(std::string{entity});
  if (it == entities_.end()) return;
  const auto& t = it->second;
  for (size_t i = 0; i < t.positions.size(); ++i) {
    const uint64_t seq = t.first_seq + i;
    if (seq < from) continue;
    const auto* ref = at_position(t.positions[i]);
    ORDO_STORAGE_CHECK(ref != nullptr, "overlay event {} of {} has no feed entry", seq, entity);
    out.emplace_back(seq, ref->req->req.events[ref->index]);
  }
}

std::optional<snapshot> overlay::latest_snapshot(std::string_view entity) const {
  auto it = entities_.find(std::string{entity});
  if (it == entities_.end() || it->second.snap == nullptr) return std::nullopt;
  return snapshot{it->second.snap->seq, it->second.snap->bytes};
}

std::optional<std::string> overlay::idempotency(std::string_view entity,
                                                std::string_view key) const {
  auto it = find_idem(entity, key);
  if (it == idem_.end()) return std::nullopt;
  return it->second.rec->result;
}

std::optional<overlay::timer_change> overlay::timer(std::string_view entity,
                                                    std::string_view timer_id) const {
  auto it = entities_.find(std::string{entity});
  if (it == entities_.end()) return std::nullopt;
  auto ti = it->second.timers.find(std::string{timer_id});
  if (ti == it->second.timers.end()) return std::nullopt;
  if (ti->second.schedule == nullptr) return timer_change{};
  return timer_change{true, ti->second.schedule->due_ms, ti->second.schedule->payload};
}

std::vector<overlay::due_timer> overlay::due(uint64_t now_ms, size_t max) const {
  std::vector<due_timer> out;
  for (const auto& [due_ms, entity, id] : due_) {
    if (due_ms > now_ms || out.size() >= max) break;
    auto t = timer(entity, id);
    ORDO_STORAGE_CHECK(t && t->scheduled, "overlay due index out of step for {}", entity);
    out.push_back(due_timer{entity, id, t->payload, due_ms});
  }
  return out;
}

void overlay::feed(uint64_t after, size_t max, std::vector<feed_item>& out) const {
  if (feed_.empty()) return;
  uint64_t p = std::max(after + 1, feed_first_);
  for (; p <= feed_last() && out.size() < max; ++p) {
    const auto* ref = at_position(p);
    const auto& r = ref->req->req;
    out.push_back(feed_item{p, r.expected_seq + 1 + ref->index, r.entity, r.events[ref->index]});
  }
}

std::optional<std::string> overlay::last_entity_with_prefix(std::string_view prefix) const {
  std::optional<std::string> best;
  for (const auto& [entity, t] : entities_)
    if (!t.positions.empty() && entity.compare(0, prefix.size(), prefix) == 0 &&
        (!best || entity > *best))
      best = entity;
  return best;
}

} // namespace ordo::storage
