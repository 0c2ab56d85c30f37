#pragma once
// Atoms and local-only message types of the runtime (CAF 0.17: atoms are at most 10
// characters). Requests carry a completion callback, so they are shared pointers and never
// cross the network; the cluster issue adds serializable forms.

#include <memory>

#include <caf/all.hpp>

#include "actors/runtime/request.hpp"

namespace ordo {

using command_atom = caf::atom_constant<caf::atom("command")>;
using persisted_atom = caf::atom_constant<caf::atom("persisted")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using crashed_atom = caf::atom_constant<caf::atom("crashed")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using evict_atom = caf::atom_constant<caf::atom("evict")>;

/// The requests an actor still held when it crashed, handed back to its supervisor.
using request_list = std::vector<request_ptr>;
using request_list_ptr = std::shared_ptr<request_list>;

} // namespace ordo

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ordo::request_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(ordo::request_list_ptr)
