// The ingress: the actor a node publishes on its cluster port (through TLS: tls.hpp). It
// answers peers' forwarded commands and reads, and takes their control messages — each
// opened (signature, certificate, addressee: control_auth.hpp) and checked against this
// node's state (control_checks.hpp) before a worker runs it.
#include <optional>
#include <unordered_map>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "actors/runtime/internals.hpp"
#include "actors/runtime/shard_admin.hpp"
#include "actors/cluster/control_checks.hpp"
#include "actors/cluster/link_impl.hpp"
#include "ordo/runtime.hpp"
#include "domain/order_id.hpp"

namespace ordo::cluster {

namespace {

// `own`/`shard`: for a not_owner answer, the owner this node knows of, so the sender (whose
// view is behind a handoff) learns where the shard went.
std::string outcome_bytes(const outcome& o, const ownership* own = nullptr, uint16_t shard = 0) {
  v1::ForwardedOutcome f;
  if (own && o.code == "not_owner" && shard < own->shard_count()) {
    f.set_owner_hint(own->owner(shard));
    f.set_owner_epoch(own->owner_epoch(shard));
  }
  f.set_status(to_string(o.status));
  f.set_entity_id(o.entity_id);
  f.set_first_seq(o.first_seq);
  f.set_last_seq(o.last_seq);
  f.set_duplicate(o.duplicate);
  f.set_code(o.code);
  f.set_message(o.message);
  for (const auto& e : o.events)
    *f.add_events() = e;
  f.set_unknown_if_applied(o.unknown_if_applied);
  return f.SerializeAsString();
}

std::string mismatch(const cluster_link::impl& p, uint32_t from, uint64_t theirs) {
  return fmt::format("node {} is in cluster {:016x}, node {} in {:016x}: their configs or "
                     "states differ; refused",
                     from, theirs, p.opt.self, p.own->cluster_id());
}

// A refused control message: counted, logged (the link's stderr lines in the node's logfmt
// shape), and answered with the reason.
std::string refuse(cluster_link::impl& p, uint32_t from, const std::string& why) {
  p.refused++;
  fmt::print(stderr, "level=warn event=cluster_control_refused node={} from={} reason=\"{}\"\n",
             p.opt.self, from, why);
  v1::ControlAnswer a;
  a.set_error(why);
  return a.SerializeAsString();
}

struct ingress_state {
  std::unordered_map<uint64_t, caf::response_promise> promises;
  uint64_t next = 1;
};

using ingress_ptr = caf::stateful_actor<ingress_state>*;

// A forwarded command: submitted here, answered through a promise when its outcome is known.
caf::result<std::string> answer_forward(ingress_ptr self, cluster_link::impl* link,
                                        std::string& bytes) {
  link->received++;
  v1::ForwardedCommand fc;
  if (!fc.ParseFromString(bytes)) {
    link->refused++;
    return outcome_bytes(failure("malformed_forward", "a forwarded command did not parse"));
  }
  if (fc.cluster_id() != link->own->cluster_id()) {
    link->refused++;
    return outcome_bytes(failure("map_mismatch", mismatch(*link, fc.from_node(), fc.cluster_id())));
  }
  if (link->rt == nullptr || link->stopping)
    return outcome_bytes(failure("stopping", "the owner is starting or stopping; retry"));
  auto id = self->state.next++;
  self->state.promises.emplace(id, self->make_response_promise());
  auto me = caf::actor_cast<caf::actor>(self);
  auto shard = static_cast<uint16_t>(fc.shard());
  auto* own = link->own;
  runtime_internals::submit_forwarded(
      *link->rt, std::move(*fc.mutable_command()), [me, id, shard, own](outcome o) {
        caf::anon_send(me, reply_atom::value, id, outcome_bytes(o, own, shard));
      });
  return caf::delegated<std::string>();
}

// A submitted command's outcome, back on the actor's thread: delivered to its promise.
void deliver_reply(ingress_ptr self, uint64_t id, std::string& bytes) {
  auto it = self->state.promises.find(id);
  if (it == self->state.promises.end()) return;
  it->second.deliver(std::move(bytes));
  self->state.promises.erase(it);
}

// A forwarded read: this node's state of the entity, or why not (with the owner it knows of).
std::string answer_read(cluster_link::impl* link, std::string& bytes) {
  v1::ForwardedRead r;
  v1::ForwardedState out;
  if (!r.ParseFromString(bytes) || r.cluster_id() != link->own->cluster_id() || !link->rt) {
    out.set_error("refused: malformed read, another cluster, or not serving");
    return out.SerializeAsString();
  }
  std::optional<uint16_t> shard;
  if (r.entity_type() == v1::ENTITY_TYPE_ORDER) {
    shard = domain::shard_of(r.entity_id());
    auto st = link->rt->order(r.entity_id());
    if (st)
      out.set_state(st->SerializeAsString());
    else
      out.set_error(caf::to_string(st.error()));
  } else {
    shard = runtime_internals::shard_of_sku(*link->rt, r.entity_id());
    auto st = link->rt->inventory(r.entity_id());
    if (st)
      out.set_state(st->SerializeAsString());
    else
      out.set_error(caf::to_string(st.error()));
  }
  if (!out.error().empty() && shard && *shard < link->own->shard_count()) {
    out.set_owner_hint(link->own->owner(*shard));
    out.set_owner_epoch(link->own->owner_epoch(*shard));
  }
  return out.SerializeAsString();
}

// A control message: opened and checked here, run on a worker, answered through a promise.
caf::result<std::string> answer_control(ingress_ptr self, cluster_link::impl* link,
                                        std::string& bytes) {
  v1::ClusterControl msg;
  // Who sent it (with TLS: the certificate that signed it) and for whom.
  if (auto why = open(link->creds.get(), bytes, link->opt.self, msg); !why.empty())
    return refuse(*link, msg.from_node(), why);
  // A joining node (cluster id 0) accepts the change that brings it in.
  auto mine = link->own->cluster_id();
  if (msg.cluster_id() != mine && !(mine == 0 && msg.has_change()))
    return refuse(*link, msg.from_node(), mismatch(*link, msg.from_node(), msg.cluster_id()));
  if (!link->rt) {
    v1::ControlAnswer bad;
    bad.set_error("not serving yet");
    return bad.SerializeAsString();
  }
  // The sender is a member; the epoch and the step are those of the pending change.
  if (auto why = check_control(*link->own, msg); !why.empty())
    return refuse(*link, msg.from_node(), why);
  // Off the actor's thread: a handoff takes as long as its records take to move.
  auto id = self->state.next++;
  auto me = caf::actor_cast<caf::actor>(self);
  if (!link->spawn_worker([link, me, id, msg = std::move(msg)] {
        auto a = handle_control(*link, msg);
        caf::anon_send(me, reply_atom::value, id, a.SerializeAsString());
      })) {
    v1::ControlAnswer bad;
    bad.set_error("busy or stopping: too many control messages in progress; retry");
    return bad.SerializeAsString();
  }
  self->state.promises.emplace(id, self->make_response_promise());
  return caf::delegated<std::string>();
}

caf::behavior ingress_actor(ingress_ptr self, cluster_link::impl* link) {
  return {
      [=](fwd_atom, std::string& bytes) -> caf::result<std::string> {
        return answer_forward(self, link, bytes);
      },
      [=](reply_atom, uint64_t id, std::string& bytes) { deliver_reply(self, id, bytes); },
      [=](read_atom, std::string& bytes) -> std::string { return answer_read(link, bytes); },
      [=](ctl_atom, std::string& bytes) -> caf::result<std::string> {
        return answer_control(self, link, bytes);
      },
  };
}

} // namespace

caf::actor spawn_ingress(cluster_link::impl& p) {
  return p.sys->spawn(ingress_actor, &p);
}

} // namespace ordo::cluster
