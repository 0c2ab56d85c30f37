// Named consumers of the event feed: see feed_consumers.hpp.
#include "app/node/feed_consumers.hpp"

#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "app/node/errors.hpp"

namespace ordo::node {

namespace {
constexpr std::string_view prefix = "consumer/";
}

std::string consumer_offset_name(std::string_view consumer) {
  std::string name{prefix};
  name.append(consumer);
  return name;
}

feed_consumers::feed_consumers(runtime& rt, size_t max, std::chrono::milliseconds save_every)
    : rt_(rt), max_(max), save_every_(save_every) {}

bool feed_consumers::valid_name(std::string_view name) {
  // "saga" is the built-in consumer's name in /metrics (ordo_feed_consumer_lag).
  if (name.empty() || name.size() > 64 || name == "saga") return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '_' || c == '-'))
      return false;
  return true;
}

std::string feed_consumers::load() {
  auto saved = rt_.feed_offsets(prefix);
  if (!saved)
    return fmt::format("reading the feed consumers' offsets: {}", describe(saved.error()));
  std::lock_guard<std::mutex> g{mu_};
  for (auto& [name, position] : *saved) {
    auto& s = consumers_[name.substr(prefix.size())];
    s.latest = s.saved = position;
    s.ever_saved = true;
    s.saved_at = clock::now();
  }
  return {};
}

std::optional<uint64_t> feed_consumers::offset(const std::string& name) const {
  std::lock_guard<std::mutex> g{mu_};
  auto it = consumers_.find(name);
  if (it == consumers_.end()) return std::nullopt;
  return it->second.latest;
}

feed_consumers::result feed_consumers::commit(const std::string& name, uint64_t position) {
  if (!valid_name(name))
    return {status::invalid_name,
            "a consumer name is 1..64 characters of A-Z a-z 0-9 . _ - (not \"saga\")"};
  bool due = false;
  {
    std::lock_guard<std::mutex> g{mu_};
    auto it = consumers_.find(name);
    if (it == consumers_.end()) {
      if (consumers_.size() >= max_)
        return {status::too_many,
                fmt::format("{} named feed consumers exist already (http.feed_consumers_max); "
                            "remove one with DELETE /v1/events/consumers/NAME",
                            consumers_.size())};
      it = consumers_.emplace(name, state{}).first;
    }
    it->second.latest = position;
    due = !it->second.ever_saved ||
          (it->second.saved != position && clock::now() - it->second.saved_at >= save_every_);
  }
  return due ? save(name) : result{};
}

feed_consumers::result feed_consumers::save(const std::string& name) {
  std::lock_guard<std::mutex> serial{save_mu_};
  uint64_t position = 0;
  {
    std::lock_guard<std::mutex> g{mu_};
    auto it = consumers_.find(name);
    if (it == consumers_.end()) return {}; // removed meanwhile
    if (it->second.ever_saved && it->second.saved == it->second.latest) return {};
    position = it->second.latest;
  }
  if (auto err = rt_.save_feed_offset(consumer_offset_name(name), position))
    return {status::storage_error,
            fmt::format("saving the offset of feed consumer {}: {}", name, describe(err))};
  std::lock_guard<std::mutex> g{mu_};
  if (auto it = consumers_.find(name); it != consumers_.end()) {
    it->second.saved = position;
    it->second.ever_saved = true;
    it->second.saved_at = clock::now();
  }
  return {};
}

void feed_consumers::flush(bool all) {
  std::vector<std::string> due;
  {
    std::lock_guard<std::mutex> g{mu_};
    auto now = clock::now();
    for (auto& [name, s] : consumers_)
      if (s.saved != s.latest && (all || now - s.saved_at >= save_every_)) due.push_back(name);
  }
  for (auto& name : due)
    save(name); // a failure stays pending: retried on the next flush
}

std::vector<std::pair<std::string, uint64_t>> feed_consumers::list() const {
  std::lock_guard<std::mutex> g{mu_};
  std::vector<std::pair<std::string, uint64_t>> out;
  out.reserve(consumers_.size());
  for (auto& [name, s] : consumers_)
    out.emplace_back(name, s.latest);
  return out;
}

std::optional<uint64_t> feed_consumers::remove(const std::string& name, std::string* error) {
  std::lock_guard<std::mutex> serial{save_mu_};
  uint64_t last = 0;
  {
    std::lock_guard<std::mutex> g{mu_};
    auto it = consumers_.find(name);
    if (it == consumers_.end()) return std::nullopt;
    last = it->second.latest;
  }
  if (auto gone = rt_.delete_feed_offset(consumer_offset_name(name)); !gone) {
    *error = fmt::format("removing feed consumer {}: {}", name, describe(gone.error()));
    return std::nullopt;
  }
  std::lock_guard<std::mutex> g{mu_};
  consumers_.erase(name);
  return last;
}

} // namespace ordo::node
