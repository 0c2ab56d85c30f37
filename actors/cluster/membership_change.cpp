// Coordinating a membership change (docs/cluster.md, "Membership change"): the node an
// operator asked announces the new membership to every node of the old and the new one
// (prepare), asks each shard's old owner to move it, one shard at a time (the move itself:
// handoff.cpp), then commits the new membership everywhere.

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "actors/cluster/link_impl.hpp"
#include "actors/cluster/shard_map.hpp"
#include "ordo/runtime.hpp"

namespace ordo::cluster {

namespace {

void set_result(cluster_link::impl& p, std::string result) {
  std::lock_guard<std::mutex> g{p.change_mu};
  p.change.running = false;
  p.change.result = std::move(result);
}

void set_handoff(cluster_link::impl& p, size_t i, std::string state, std::string error = {}) {
  std::lock_guard<std::mutex> g{p.change_mu};
  p.change.handoffs[i].state = std::move(state);
  p.change.handoffs[i].error = std::move(error);
}

// Every node of the current and the new membership, once each.
std::vector<uint16_t> everyone_of(const cluster_link::impl& p, const v1::MembershipChange& change) {
  std::vector<uint16_t> everyone;
  for (const auto& m : p.own->known_members())
    everyone.push_back(m.id);
  for (const auto& m : change.members())
    everyone.push_back(static_cast<uint16_t>(m.id()));
  std::sort(everyone.begin(), everyone.end());
  everyone.erase(std::unique(everyone.begin(), everyone.end()), everyone.end());
  return everyone;
}

// 1. Prepare: every node of both memberships learns the new members (and connects);
//    a joining node adopts the cluster. Nothing has moved if this fails. "" when done.
std::string prepare_all(cluster_link::impl& p, const v1::MembershipChange& change,
                        const std::vector<uint16_t>& everyone) {
  const auto timeout = p.opt.handoff_call_timeout;
  for (auto n : everyone) {
    // The joining nodes' addresses are known only now: wait (bounded) for the connection.
    for (int i = 0; i < 100 && n != p.opt.self && !p.is_connected(n) && !p.stopping; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    v1::ClusterControl msg;
    *msg.mutable_change() = change;
    auto a = p.control(n, std::move(msg), timeout);
    if (!a) return fmt::format("node {}: {}", n, caf::to_string(a.error()));
    if (!a->error().empty()) return fmt::format("node {}: {}", n, a->error());
  }
  return {};
}

// 2. Move, one shard at a time; each move is retried (bounded) before giving up. False (and
//    the change's result set) when a move failed.
bool move_all(cluster_link::impl& p, const v1::MembershipChange& change) {
  const auto timeout = p.opt.handoff_call_timeout;
  std::vector<size_t> order;
  {
    std::lock_guard<std::mutex> g{p.change_mu};
    for (size_t i = 0; i < p.change.handoffs.size(); ++i)
      order.push_back(i);
  }
  for (auto i : order) {
    handoff_status h;
    {
      std::lock_guard<std::mutex> g{p.change_mu};
      h = p.change.handoffs[i];
    }
    set_handoff(p, i, "moving");
    std::string err;
    for (int attempt = 0; attempt < 10 && !p.stopping; ++attempt) {
      v1::ClusterControl msg;
      msg.mutable_move()->set_epoch(change.epoch());
      msg.mutable_move()->set_shard(h.shard);
      msg.mutable_move()->set_to_node(h.to);
      auto a = p.control(h.from, std::move(msg), timeout);
      err = !a ? caf::to_string(a.error()) : a->error();
      if (err.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{500});
    }
    if (!err.empty()) {
      set_handoff(p, i, "failed", err);
      set_result(p, fmt::format("moving shard {} from node {} to node {} failed: {} (re-run the "
                                "change to resume; the shard serves again when it completes)",
                                h.shard, h.from, h.to, err));
      return false;
    }
    set_handoff(p, i, "done");
  }
  return true;
}

// 3. Commit everywhere (a node that misses it learns owners by redirects). The nodes that did
//    not confirm, as " node N (why)" each.
std::string commit_all(cluster_link::impl& p, const v1::MembershipChange& change,
                       const std::vector<uint16_t>& everyone) {
  const auto timeout = p.opt.handoff_call_timeout;
  v1::CommitMembership commit;
  commit.set_epoch(change.epoch());
  *commit.mutable_members() = change.members();
  for (auto t : change.target())
    commit.add_owner(t);
  std::string missed;
  for (auto n : everyone) {
    v1::ClusterControl msg;
    *msg.mutable_commit() = commit;
    auto a = p.control(n, std::move(msg), timeout);
    if (!a || !a->error().empty())
      missed += fmt::format(" node {} ({})", n, !a ? caf::to_string(a.error()) : a->error());
  }
  return missed;
}

} // namespace

void run_change(cluster_link::impl& p, v1::MembershipChange change) {
  auto everyone = everyone_of(p, change);
  if (auto err = prepare_all(p, change, everyone); !err.empty()) {
    set_result(p, "prepare failed, nothing moved: " + err);
    return;
  }
  log_line(p, "membership_change_prepared",
           fmt::format("epoch={} nodes={}", change.epoch(), change.members_size()));
  if (!move_all(p, change)) return;
  auto missed = commit_all(p, change, everyone);
  log_line(p, "membership_change_done", fmt::format("epoch={}", change.epoch()));
  set_result(p, missed.empty() ? "done" : "done; commit not confirmed by" + missed);
}

caf::expected<uint64_t> cluster_link::change_members(std::vector<member> members) {
  auto& p = *impl_;
  if (!p.rt) return caf::make_error(caf::sec::runtime_error, "the cluster link is not serving");
  std::vector<uint16_t> ids;
  for (const auto& m : members) {
    if (m.id == 0 || m.host.empty() || m.port == 0)
      return caf::make_error(caf::sec::invalid_argument,
                             "every node needs an id (1..65535), a host and a port");
    ids.push_back(m.id);
  }
  std::sort(ids.begin(), ids.end());
  if (ids.empty() || std::adjacent_find(ids.begin(), ids.end()) != ids.end())
    return caf::make_error(caf::sec::invalid_argument, "the node list is empty or repeats an id");
  if (auto e = check_policy(opt_.tls, members); !e.empty()) // no TLS: loopback nodes only
    return caf::make_error(caf::sec::invalid_argument, e);
  if (!std::binary_search(ids.begin(), ids.end(), opt_.self))
    return caf::make_error(caf::sec::invalid_argument,
                           fmt::format("node {} coordinates the change and must stay a member; "
                                       "ask a node that stays",
                                       opt_.self));
  if (own_->cluster_id() == 0)
    return caf::make_error(caf::sec::runtime_error, "this node has not joined a cluster yet");
  std::lock_guard<std::mutex> g{p.change_mu};
  if (p.change.running)
    return caf::make_error(caf::sec::runtime_error,
                           fmt::format("a change to epoch {} is running", p.change.epoch));
  // A change left unfinished (here or elsewhere) resumes under its own epoch.
  auto pending = own_->pending();
  v1::MembershipChange change;
  if (pending) {
    change = *pending;
  } else {
    change.set_epoch(own_->epoch() + 1);
    for (uint16_t s = 0; s < own_->shard_count(); ++s) {
      change.add_owner(own_->owner(s));
      change.add_owner_epoch(own_->owner_epoch(s));
    }
  }
  change.clear_members();
  change.clear_target();
  change.set_coordinator(opt_.self); // moves and the commit are obeyed from this node only
  for (const auto& m : members) {
    auto* x = change.add_members();
    x->set_id(m.id);
    x->set_host(m.host);
    x->set_port(m.port);
  }
  shard_map target{ids, own_->shard_count()};
  change_status status;
  status.epoch = change.epoch();
  status.running = true;
  for (uint16_t s = 0; s < own_->shard_count(); ++s) {
    change.add_target(target.owner(s));
    if (change.owner(s) == 0)
      return caf::make_error(caf::sec::runtime_error,
                             fmt::format("the owner of shard {} is unknown here", s));
    if (change.owner(s) != target.owner(s))
      status.handoffs.push_back(
          {s, static_cast<uint16_t>(change.owner(s)), target.owner(s), "waiting", ""});
  }
  p.change = std::move(status);
  if (!p.spawn_worker([&p, change] { run_change(p, change); })) {
    p.change.running = false;
    p.change.result = "not started: the link is stopping or busy";
    return caf::make_error(caf::sec::runtime_error, p.change.result);
  }
  return change.epoch();
}

} // namespace ordo::cluster
