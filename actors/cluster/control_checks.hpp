#pragma once
// Whether a control message from another node may run here (docs/cluster.md, "What the
// receiver checks"). Pure: the message against this node's ownership state, nothing else.
//
// Every message: the sender is another node that this node knows as a member (committed, or
// of the pending change; a joining node: its configured nodes). Then by step:
//   change   the sender is a member of the new membership and names itself coordinator
//            (ownership::prepare then checks the epoch: newer than the committed one);
//   move     a change is pending at exactly this epoch, the sender is its coordinator, and
//            it gives this shard to exactly this node, from another;
//   records, activate
//            a change is pending at exactly this epoch, it gives the shard to this node, and
//            the sender owns the shard (as the change or this node knows it);
//   commit   the sender is the pending change's coordinator and the epoch is the pending one;
//            with nothing pending only an old commit (epoch <= the committed one: a no-op).
// A replayed message of an earlier change therefore finds another epoch (or nothing pending)
// and is refused. ownership::activate() repeats the activate rules under its own lock, so
// the check and the step cannot be separated by a concurrent change.
//
// Who the sender is comes from control_auth (a signature by the certificate of
// ordo-node-<from_node>) with TLS on; without TLS (loopback only) it is the claim.

#include <string>

#include "actors/cluster/ownership.hpp"
#include "ordo/v1/cluster.pb.h"

namespace ordo::cluster {

/// "" when `msg` (from another node, its sender authenticated) may run here; otherwise why not.
std::string check_control(const ownership& own, const v1::ClusterControl& msg);

} // namespace ordo::cluster
