#include "actors/cluster/control_checks.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace ordo::cluster {

namespace {

bool lists(const google::protobuf::RepeatedPtrField<v1::Member>& ms, uint32_t node) {
  return std::any_of(ms.begin(), ms.end(), [&](const v1::Member& m) { return m.id() == node; });
}

// For a step of the change at `epoch` that concerns `shard`: "" or why not.
std::string pending_step(const std::optional<v1::MembershipChange>& pending, uint64_t epoch,
                         uint32_t shard, const char* what) {
  if (!pending)
    return fmt::format("{} at epoch {} refused: no membership change is pending here", what, epoch);
  if (pending->epoch() != epoch)
    return fmt::format("{} at epoch {} refused: the pending change is at epoch {}", what, epoch,
                       pending->epoch());
  if (shard >= static_cast<uint32_t>(pending->target_size()) ||
      shard >= static_cast<uint32_t>(pending->owner_size()))
    return fmt::format("{} refused: no shard {}", what, shard);
  return {};
}

std::string check_move(const ownership& own, const v1::ClusterControl& msg) {
  const auto& m = msg.move();
  auto pending = own.pending();
  if (auto e = pending_step(pending, m.epoch(), m.shard(), "move"); !e.empty()) return e;
  if (pending->coordinator() != 0 && pending->coordinator() != msg.from_node())
    return fmt::format("move refused: node {} does not coordinate the change to epoch {} (node "
                       "{} does)",
                       msg.from_node(), m.epoch(), pending->coordinator());
  if (pending->target(static_cast<int>(m.shard())) != m.to_node() ||
      pending->owner(static_cast<int>(m.shard())) == m.to_node())
    return fmt::format("move refused: the change to epoch {} does not move shard {} to node {}",
                       m.epoch(), m.shard(), m.to_node());
  return {};
}

// Records and activate: the old owner hands the shard to this node.
std::string check_handoff(const ownership& own, const v1::ClusterControl& msg, uint64_t epoch,
                          uint32_t shard, const char* what) {
  auto pending = own.pending();
  if (auto e = pending_step(pending, epoch, shard, what); !e.empty()) return e;
  if (pending->target(static_cast<int>(shard)) != own.self())
    return fmt::format("{} refused: the change to epoch {} gives shard {} to node {}, not {}", what,
                       epoch, shard, pending->target(static_cast<int>(shard)), own.self());
  auto from = msg.from_node();
  bool owner = pending->owner(static_cast<int>(shard)) == from ||
               (shard < own.shard_count() && own.owner(static_cast<uint16_t>(shard)) == from);
  if (!owner) return fmt::format("{} refused: node {} does not own shard {}", what, from, shard);
  return {};
}

std::string check_commit(const ownership& own, const v1::ClusterControl& msg) {
  const auto& c = msg.commit();
  auto pending = own.pending();
  if (!pending) {
    if (c.epoch() <= own.epoch()) return {}; // an old commit, re-sent: a no-op
    return fmt::format("commit of epoch {} refused: no membership change is pending here",
                       c.epoch());
  }
  if (c.epoch() <= own.epoch()) return {}; // older than what is committed: a no-op
  if (c.epoch() != pending->epoch())
    return fmt::format("commit of epoch {} refused: the pending change is at epoch {}", c.epoch(),
                       pending->epoch());
  if (pending->coordinator() != 0 && pending->coordinator() != msg.from_node())
    return fmt::format("commit refused: node {} does not coordinate the change to epoch {}",
                       msg.from_node(), c.epoch());
  return {};
}

} // namespace

std::string check_control(const ownership& own, const v1::ClusterControl& msg) {
  auto from = msg.from_node();
  if (from == 0 || from > 65535 || from == own.self())
    return fmt::format("a control message claiming to be from node {} refused", from);
  if (!own.knows(static_cast<uint16_t>(from)))
    return fmt::format("node {} is not a member of this cluster: refused", from);
  switch (msg.body_case()) {
  case v1::ClusterControl::kChange:
    if (!lists(msg.change().members(), from) || msg.change().coordinator() != from)
      return fmt::format("a change to epoch {} from node {} refused: its coordinator must name "
                         "itself and stay a member",
                         msg.change().epoch(), from);
    return {};
  case v1::ClusterControl::kMove:
    return check_move(own, msg);
  case v1::ClusterControl::kRecords:
    return check_handoff(own, msg, msg.records().epoch(), msg.records().shard(), "records");
  case v1::ClusterControl::kActivate:
    return check_handoff(own, msg, msg.activate().epoch(), msg.activate().shard(), "activate");
  case v1::ClusterControl::kCommit:
    return check_commit(own, msg);
  case v1::ClusterControl::BODY_NOT_SET:
    break;
  }
  return "empty control message";
}

} // namespace ordo::cluster
