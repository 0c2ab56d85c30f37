#include "actors/cluster/ownership.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <caf/sec.hpp>
#include <fmt/core.h>

#include "actors/cluster/shard_map.hpp"
#include "actors/runtime/placement.hpp"
#include "domain/assert.hpp"

namespace ordo::cluster {

namespace {

caf::error state_error(std::string what) {
  return caf::make_error(caf::sec::runtime_error, "cluster_state: " + std::move(what));
}

v1::Member to_proto(const member& m) {
  v1::Member p;
  p.set_id(m.id);
  p.set_host(m.host);
  p.set_port(m.port);
  return p;
}

member from_proto(const v1::Member& p) {
  return {static_cast<uint16_t>(p.id()), p.host(), static_cast<uint16_t>(p.port())};
}

// Writes `bytes` to `path` so that a crash leaves either the old file or the new one:
// a temporary file, fsync, rename over, fsync of the directory.
caf::error write_atomically(const std::string& path, const std::string& bytes) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return state_error(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto e = errno;
      ::close(fd);
      return state_error(fmt::format("cannot write {}: {}", tmp, std::strerror(e)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) {
    auto e = errno;
    ::close(fd);
    return state_error(fmt::format("cannot sync {}: {}", tmp, std::strerror(e)));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return state_error(fmt::format("cannot replace {}: {}", path, std::strerror(errno)));
  auto dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

} // namespace

uint64_t ownership::founding_id(std::vector<uint16_t> ids, uint16_t shard_count) {
  std::sort(ids.begin(), ids.end());
  std::string s = fmt::format("shards={};nodes=", shard_count);
  for (auto n : ids)
    s += fmt::format("{},", n);
  return stable_hash(s);
}

ownership::ownership(options o)
    : opt_(std::move(o)), owner_(new std::atomic<uint16_t>[opt_.shard_count]),
      place_(new std::atomic<uint8_t>[opt_.shard_count]) {}

caf::expected<std::unique_ptr<ownership>> ownership::open(options o) {
  if (o.shard_count == 0) return state_error("shard_count is 0");
  std::unique_ptr<ownership> p{new ownership(o)};
  auto& st = p->state_;
  bool loaded = false;
  if (!o.state_path.empty() && std::filesystem::exists(o.state_path)) {
    std::ifstream in{o.state_path, std::ios::binary};
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    const bool parsed = st.ParseFromString(bytes);
    // A shard beyond the count (a damaged file) would index past the per-shard tables.
    const bool shards_in_range =
        std::all_of(st.moving_out().begin(), st.moving_out().end(),
                    [&](const v1::MoveOut& m) { return m.shard() < o.shard_count; });
    if (!parsed || st.shard_count() != o.shard_count ||
        st.owner_size() != o.shard_count || st.owner_epoch_size() != o.shard_count ||
        !shards_in_range)
      return state_error(fmt::format("{} is damaged or was written for another shard count "
                                     "(node.shards = {}); refusing to guess who owns what",
                                     o.state_path, o.shard_count));
    loaded = true;
  }
  if (!loaded) {
    st.set_shard_count(o.shard_count);
    if (o.join) {
      // Owns nothing, knows no owner: a membership change teaches it (prepare()).
      for (uint16_t s = 0; s < o.shard_count; ++s) {
        st.add_owner(0);
        st.add_owner_epoch(0);
      }
    } else {
      std::vector<uint16_t> ids;
      for (const auto& m : o.config_members) {
        ids.push_back(m.id);
        *st.add_members() = to_proto(m);
      }
      shard_map map{ids, o.shard_count};
      st.set_cluster_id(founding_id(ids, o.shard_count));
      st.set_epoch(1);
      for (uint16_t s = 0; s < o.shard_count; ++s) {
        st.add_owner(map.owner(s));
        st.add_owner_epoch(1);
      }
    }
    if (auto e = p->save_locked()) return e;
  }
  p->publish_locked();
  return p;
}

void ownership::publish_locked() {
  cluster_id_ = state_.cluster_id();
  for (uint16_t s = 0; s < opt_.shard_count; ++s) {
    auto o = static_cast<uint16_t>(state_.owner(s));
    owner_[s] = o;
    auto pl = o == 0           ? shard_place::unknown
              : o == opt_.self ? shard_place::local
                               : shard_place::remote;
    place_[s] = static_cast<uint8_t>(pl);
  }
  for (const auto& m : state_.moving_out())
    place_[m.shard()] = static_cast<uint8_t>(shard_place::moving);
}

caf::error ownership::commit_locked(v1::ClusterState before) {
  if (auto e = save_locked()) {
    state_ = std::move(before); // not on disk: not in effect either
    return e;
  }
  publish_locked();
  return {};
}

caf::error ownership::save_locked() {
  if (opt_.state_path.empty()) return {};
  return write_atomically(opt_.state_path, state_.SerializeAsString());
}

shard_place ownership::place(uint16_t shard) const {
  ORDO_ASSERT(shard < opt_.shard_count, "shard out of range");
  return static_cast<shard_place>(place_[shard].load());
}

uint64_t ownership::owner_epoch(uint16_t shard) const {
  std::lock_guard<std::mutex> g{mu_};
  return state_.owner_epoch(shard);
}

uint64_t ownership::epoch() const {
  std::lock_guard<std::mutex> g{mu_};
  return state_.epoch();
}

std::vector<member> ownership::committed_members() const {
  std::lock_guard<std::mutex> g{mu_};
  std::vector<member> out;
  for (const auto& m : state_.members())
    out.push_back(from_proto(m));
  return out;
}

std::vector<member> ownership::known_members() const {
  std::vector<member> out = committed_members();
  {
    std::lock_guard<std::mutex> g{mu_};
    for (const auto& m : state_.pending().members())
      out.push_back(from_proto(m));
  }
  if (out.empty()) out = opt_.config_members; // a joining node: whom to reach first
  std::sort(out.begin(), out.end(), [](const member& a, const member& b) { return a.id < b.id; });
  out.erase(std::unique(out.begin(), out.end(),
                        [](const member& a, const member& b) { return a.id == b.id; }),
            out.end());
  return out;
}

std::optional<v1::MembershipChange> ownership::pending() const {
  std::lock_guard<std::mutex> g{mu_};
  if (state_.pending().epoch() == 0) return std::nullopt;
  return state_.pending();
}

std::vector<v1::MoveOut> ownership::moving_out() const {
  std::lock_guard<std::mutex> g{mu_};
  return {state_.moving_out().begin(), state_.moving_out().end()};
}

std::vector<uint16_t> ownership::owned() const {
  std::vector<uint16_t> out;
  for (uint16_t s = 0; s < opt_.shard_count; ++s)
    if (place(s) == shard_place::local) out.push_back(s);
  return out;
}

bool ownership::knows(uint16_t node) const {
  std::lock_guard<std::mutex> g{mu_};
  auto in = [node](const auto& ms) {
    return std::any_of(ms.begin(), ms.end(), [node](const auto& m) { return m.id() == node; });
  };
  if (in(state_.members()) || in(state_.pending().members())) return true;
  if (state_.members_size() > 0 || state_.pending().members_size() > 0) return false;
  // A joining node: whom it was told to reach.
  return std::any_of(opt_.config_members.begin(), opt_.config_members.end(),
                     [node](const member& m) { return m.id == node; });
}

void ownership::learn(uint16_t shard, uint16_t owner, uint64_t epoch) {
  if (shard >= opt_.shard_count || owner == 0) return;
  std::lock_guard<std::mutex> g{mu_};
  auto pl = static_cast<shard_place>(place_[shard].load());
  if (pl == shard_place::local || pl == shard_place::moving) return; // ours to decide
  if (epoch <= state_.owner_epoch(shard) || owner == opt_.self) return;
  state_.set_owner(shard, owner);
  state_.set_owner_epoch(shard, epoch);
  publish_locked(); // a hint: persisted with the next real change, re-learned otherwise
}

caf::error ownership::begin_move_out(uint16_t shard, uint16_t to, uint64_t epoch) {
  std::lock_guard<std::mutex> g{mu_};
  if (static_cast<shard_place>(place_[shard].load()) != shard_place::local)
    return state_error(fmt::format("shard {} is not served by node {}", shard, opt_.self));
  auto saved = state_;
  auto* m = state_.add_moving_out();
  m->set_shard(shard);
  m->set_to_node(to);
  m->set_epoch(epoch);
  return commit_locked(std::move(saved));
}

namespace {
int find_move(const v1::ClusterState& st, uint16_t shard) {
  for (int i = 0; i < st.moving_out_size(); ++i)
    if (st.moving_out(i).shard() == shard) return i;
  return -1;
}
} // namespace

caf::error ownership::abort_move_out(uint16_t shard) {
  std::lock_guard<std::mutex> g{mu_};
  int i = find_move(state_, shard);
  if (i < 0) return {};
  auto saved = state_;
  state_.mutable_moving_out()->DeleteSubrange(i, 1);
  return commit_locked(std::move(saved));
}

caf::error ownership::finish_move_out(uint16_t shard) {
  std::lock_guard<std::mutex> g{mu_};
  int i = find_move(state_, shard);
  if (i < 0) return state_error(fmt::format("shard {} is not being handed off", shard));
  auto saved = state_;
  state_.set_owner(shard, state_.moving_out(i).to_node());
  state_.set_owner_epoch(shard, state_.moving_out(i).epoch());
  state_.mutable_moving_out()->DeleteSubrange(i, 1);
  return commit_locked(std::move(saved));
}

caf::error ownership::activate(uint16_t shard, uint64_t epoch, uint16_t from) {
  std::lock_guard<std::mutex> g{mu_};
  if (find_move(state_, shard) >= 0)
    return state_error(fmt::format("shard {} is being handed off from here", shard));
  const auto& pending = state_.pending();
  if (pending.epoch() == 0 || pending.epoch() != epoch)
    return state_error(fmt::format(
        "activate of shard {} at epoch {} refused: {}", shard, epoch,
        pending.epoch() == 0 ? std::string("no membership change is pending here")
                             : fmt::format("the pending change is at epoch {}", pending.epoch())));
  if (shard >= pending.target_size() || pending.target(shard) != opt_.self)
    return state_error(fmt::format("activate of shard {} at epoch {} refused: the pending change "
                                   "does not give it to node {}",
                                   shard, epoch, opt_.self));
  if (from == opt_.self || (pending.owner(shard) != from && state_.owner(shard) != from))
    return state_error(fmt::format("activate of shard {} at epoch {} refused: node {} does not "
                                   "own it",
                                   shard, epoch, from));
  auto saved = state_;
  state_.set_owner(shard, opt_.self);
  state_.set_owner_epoch(shard, epoch);
  return commit_locked(std::move(saved));
}

caf::error ownership::prepare(uint64_t cluster_id, const v1::MembershipChange& change) {
  std::lock_guard<std::mutex> g{mu_};
  if (state_.cluster_id() != 0 && state_.cluster_id() != cluster_id)
    return state_error(fmt::format("a change for cluster {:016x}, this node is in {:016x}",
                                   cluster_id, state_.cluster_id()));
  if (change.epoch() == state_.epoch() && state_.pending().epoch() == 0)
    return {}; // committed here already (a re-run of the same change): nothing to prepare
  if (change.epoch() <= state_.epoch())
    return state_error(fmt::format("change to epoch {} but this node is at epoch {}",
                                   change.epoch(), state_.epoch()));
  if (change.owner_size() != opt_.shard_count || change.target_size() != opt_.shard_count ||
      change.owner_epoch_size() != opt_.shard_count)
    return state_error("a change with the wrong number of shards");
  auto saved = state_;
  *state_.mutable_pending() = change;
  if (state_.cluster_id() == 0) {
    // Joining: adopt the cluster and the current owners (none of them is this node).
    state_.set_cluster_id(cluster_id);
    state_.set_epoch(change.epoch() - 1);
    for (uint16_t s = 0; s < opt_.shard_count; ++s) {
      state_.set_owner(s, change.owner(s));
      state_.set_owner_epoch(s, change.owner_epoch(s));
    }
  }
  return commit_locked(std::move(saved));
}

caf::error ownership::commit(const v1::CommitMembership& c) {
  std::lock_guard<std::mutex> g{mu_};
  if (c.epoch() <= state_.epoch()) return {}; // an old commit, re-sent
  if (c.epoch() != state_.pending().epoch())
    return state_error(fmt::format(
        "commit of epoch {} refused: {}", c.epoch(),
        state_.pending().epoch() == 0
            ? std::string("no membership change is pending here")
            : fmt::format("the pending change is at epoch {}", state_.pending().epoch())));
  if (c.owner_size() != opt_.shard_count) return state_error("a commit with the wrong shard count");
  auto saved = state_;
  state_.set_epoch(c.epoch());
  state_.clear_members();
  for (const auto& m : c.members())
    *state_.add_members() = m;
  for (uint16_t s = 0; s < opt_.shard_count; ++s) {
    // Our own shards are decided by our own handoff steps, which completed before the
    // coordinator commits; the rest is routing knowledge.
    auto pl = static_cast<shard_place>(place_[s].load());
    if (pl == shard_place::local || pl == shard_place::moving) continue;
    if (c.owner(s) == opt_.self) continue; // never claim a shard by a commit alone
    state_.set_owner(s, c.owner(s));
    state_.set_owner_epoch(s, std::max(state_.owner_epoch(s), c.epoch()));
  }
  state_.clear_pending();
  return commit_locked(std::move(saved));
}

} // namespace ordo::cluster
