#pragma once
// Named consumers of the event feed (GET /v1/events?consumer=NAME): the node keeps, durably,
// how far each has read, so a consumer resumes without storing its offset itself, its lag
// shows in /metrics, and an operator sees (and removes) who reads the feed.
//
// Reading with ?after=N commits N: "every event up to N is handled". Offsets are written to
// the journal at most once per `save_every` per consumer (one synced transaction each; the
// rest by flush(), called every few ms and at shutdown), so a fast poller costs at most one
// fsync a second. After a crash a consumer may resume up to `save_every` behind where it
// was: the feed is at-least-once anyway, and consumers de-duplicate by position.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ordo {
class runtime;
}

namespace ordo::node {

class feed_consumers {
public:
  using clock = std::chrono::steady_clock;

  enum class status { ok, invalid_name, too_many, storage_error };
  struct result {
    status st = status::ok;
    std::string message; // for errors: what went wrong, naming the consumer
  };

  feed_consumers(runtime& rt, size_t max, std::chrono::milliseconds save_every);

  /// Reads the saved offsets of every named consumer (at start). Empty string: fine.
  std::string load();
  /// 1..64 characters of [A-Za-z0-9._-], not "saga" (the built-in consumer's name).
  static bool valid_name(std::string_view name);
  /// The consumer's offset (latest committed, saved or not); nullopt for an unknown name.
  std::optional<uint64_t> offset(const std::string& name) const;
  /// Records that `name` handled every event up to `position`; a new name is registered
  /// (saved at once) unless `max` consumers exist already.
  result commit(const std::string& name, uint64_t position);
  /// Saves the offsets not saved for `save_every` (all of them with `all`).
  void flush(bool all = false);
  /// (name, offset) of every consumer, by name; the offset: every position up to it handled.
  std::vector<std::pair<std::string, uint64_t>> list() const;
  /// Forgets a consumer (its saved offset too); nullopt if unknown, else its last offset.
  std::optional<uint64_t> remove(const std::string& name, std::string* error);

private:
  struct state {
    uint64_t latest = 0;
    uint64_t saved = 0;
    bool ever_saved = false;
    clock::time_point saved_at{};
  };
  result save(const std::string& name);

  runtime& rt_;
  const size_t max_;
  const std::chrono::milliseconds save_every_;
  mutable std::mutex mu_; // guards consumers_
  std::mutex save_mu_;    // one save at a time: the last save writes the latest offset
  std::map<std::string, state> consumers_;
};

/// The journal offset name of a named consumer.
std::string consumer_offset_name(std::string_view consumer);

} // namespace ordo::node
