// Forwarding commands and reads to a shard's owner over the link, and reading the owner's
// answer back; a redirect to a newer owner is learned and followed.
#include "actors/runtime/internals.hpp"
#include "actors/runtime/shard_admin.hpp"
#include "actors/cluster/cluster_link.hpp"
#include "actors/cluster/link_impl.hpp"

#include <chrono>
#include <functional>
#include <string>

#include <caf/all.hpp>
#include <fmt/core.h>

#include "ordo/runtime.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

outcome from_proto(v1::ForwardedOutcome& f) {
  outcome o;
  const auto& s = f.status();
  o.status = s == "accepted"     ? outcome_status::accepted
             : s == "rejected"   ? outcome_status::rejected
             : s == "overloaded" ? outcome_status::overloaded
                                 : outcome_status::failed;
  o.entity_id = f.entity_id();
  o.first_seq = f.first_seq();
  o.last_seq = f.last_seq();
  o.duplicate = f.duplicate();
  o.code = f.code();
  o.message = f.message();
  for (auto& e : *f.mutable_events())
    o.events.push_back(std::move(e));
  o.unknown_if_applied = f.unknown_if_applied();
  return o;
}

namespace {

// Forwards to the owner this node knows of; a not_owner answer naming a newer owner (a
// handoff this node had not heard of) is learned and the command sent there — at most
// twice, so disagreeing views can never bounce a command for long.
void forward_to(cluster_link::impl& p, v1::ForwardedCommand fc, int redirects_left,
                completion done) {
  auto shard = static_cast<uint16_t>(fc.shard());
  uint16_t owner = p.own->owner(shard);
  if (owner == 0) {
    done(failure("node_joining", "this node does not know the shard's owner yet; retry"));
    return;
  }
  fc.set_cluster_id(p.own->cluster_id());
  auto bytes = fc.SerializeAsString();
  p.forwarded++;
  auto t0 = std::chrono::steady_clock::now();
  p.call(
      owner, call_kind::command, std::move(bytes),
      [&p, t0, owner, shard, redirects_left, fc = std::move(fc),
       done = std::move(done)](caf::expected<std::string> r) mutable {
        p.record_latency(
            static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - t0)
                                      .count()));
        if (!r) {
          p.forward_failed++;
          // Sent or not, the owner may have applied it: a retry with the same key tells.
          done(failure("node_unavailable",
                       fmt::format("the owner (node {}) did not answer: {}", owner,
                                   caf::to_string(r.error())),
                       true));
          return;
        }
        v1::ForwardedOutcome f;
        if (!f.ParseFromString(*r)) {
          done(failure("malformed_reply", "the owner's answer could not be parsed", true));
          return;
        }
        if (redirects_left > 0 && f.code() == "not_owner" && f.owner_hint() != 0 &&
            f.owner_hint() != owner) {
          p.own->learn(shard, static_cast<uint16_t>(f.owner_hint()), f.owner_epoch());
          if (p.own->owner(shard) != owner) {
            if (p.own->place(shard) == shard_route::local) {
              // It came to us meanwhile: this node serves it now.
              runtime_internals::submit_forwarded(*p.rt, std::move(*fc.mutable_command()), std::move(done));
              return;
            }
            forward_to(p, std::move(fc), redirects_left - 1, std::move(done));
            return;
          }
        }
        done(from_proto(f));
      },
      p.opt.request_timeout);
}

} // namespace

void cluster_link::forward(v1::Envelope command, uint16_t shard, completion done) {
  v1::ForwardedCommand fc;
  fc.set_from_node(opt_.self);
  fc.set_shard(shard);
  *fc.mutable_command() = std::move(command);
  forward_to(*impl_, std::move(fc), 2, std::move(done));
}

namespace {
template <class State>
void read_remote(cluster_link::impl& p, uint16_t shard, v1::ForwardedRead r, int redirects_left,
                 std::function<void(caf::expected<State>)> done) {
  uint16_t owner = p.own->owner(shard);
  if (owner == 0) {
    done(caf::make_error(caf::sec::runtime_error,
                         "node_unavailable: this node does not know the shard's owner yet"));
    return;
  }
  r.set_cluster_id(p.own->cluster_id());
  auto bytes = r.SerializeAsString();
  p.call(
      owner, call_kind::read, std::move(bytes),
      [&p, owner, shard, redirects_left, r = std::move(r),
       done = std::move(done)](caf::expected<std::string> bytes) mutable {
        if (!bytes) {
          done(caf::make_error(caf::sec::runtime_error,
                               fmt::format("node_unavailable: the owner (node {}) did not "
                                           "answer: {}",
                                           owner, caf::to_string(bytes.error()))));
          return;
        }
        v1::ForwardedState fs;
        State s;
        bool parsed = fs.ParseFromString(*bytes);
        if (parsed && redirects_left > 0 && fs.owner_hint() != 0 && fs.owner_hint() != owner) {
          p.own->learn(shard, static_cast<uint16_t>(fs.owner_hint()), fs.owner_epoch());
          if (p.own->owner(shard) != owner && p.own->place(shard) == shard_route::remote) {
            read_remote<State>(p, shard, std::move(r), redirects_left - 1, std::move(done));
            return;
          }
        }
        if (!parsed || !fs.error().empty() || !s.ParseFromString(fs.state())) {
          auto why = !parsed || fs.error().empty() ? std::string("malformed state") : fs.error();
          // The shard is between owners (or this node's view is behind): retry later.
          if (why.find("not_owner") != std::string::npos) why = "node_unavailable: " + why;
          done(caf::make_error(caf::sec::runtime_error, "read_failed: " + why));
          return;
        }
        done(std::move(s));
      },
      p.opt.request_timeout);
}
} // namespace

void cluster_link::read_order(const std::string& id, uint16_t shard,
                              std::function<void(caf::expected<v1::OrderState>)> done) {
  v1::ForwardedRead r;
  r.set_from_node(opt_.self);
  r.set_entity_type(v1::ENTITY_TYPE_ORDER);
  r.set_entity_id(id);
  read_remote<v1::OrderState>(*impl_, shard, std::move(r), 2, std::move(done));
}

void cluster_link::read_inventory(const std::string& sku, uint16_t shard,
                                  std::function<void(caf::expected<v1::InventoryState>)> done) {
  v1::ForwardedRead r;
  r.set_from_node(opt_.self);
  r.set_entity_type(v1::ENTITY_TYPE_INVENTORY);
  r.set_entity_id(sku);
  read_remote<v1::InventoryState>(*impl_, shard, std::move(r), 2, std::move(done));
}

} // namespace ordo::cluster
