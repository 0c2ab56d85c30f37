// Fuzz target: the messages between the nodes of a cluster (messages/ordo/v1/cluster.proto)
// as a node receives them from a peer (CAF's middleman carries them as bytes) or reads its
// persisted cluster state (<data_dir>/cluster-state.pb), and the reading of a forwarded
// answer (actors/cluster/cluster_link.cpp: from_proto).
//
// Input: the binary Protobuf encoding of any cluster message; it is read as each type.
// Checks: nothing crashes; whatever decodes round-trips through bytes; a forwarded answer
// read by from_proto keeps every field (its status one of the four the runtime knows, an
// unknown one read as failed); a forwarded command's envelope passes the runtime's envelope check
// without a crash; a decoded cluster state either opens (ownership::open, the node's start)
// and then answers for every shard, or is refused as damaged.
#include <cstdio>
#include <fstream>
#include <string>

#include <unistd.h>

#include "actors/cluster/link_impl.hpp"
#include "actors/cluster/ownership.hpp"
#include "domain/envelope.hpp"
#include "fuzz/proto_checks.hpp"
#include "ordo/v1/cluster.pb.h"
#include "ordo/v1/inventory.pb.h"
#include "ordo/v1/order.pb.h"

namespace v1 = ordo::v1;
namespace cluster = ordo::cluster;
using ordo::fuzz::check_binary_round_trip;
using ordo::fuzz::same;

namespace {

template <class M>
bool decode(std::string_view bytes, M& m) {
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  check_binary_round_trip(m);
  return true;
}

void forwarded_outcome(std::string_view bytes) {
  v1::ForwardedOutcome f;
  if (!decode(bytes, f)) return;
  const v1::ForwardedOutcome original = f;
  const auto o = cluster::from_proto(f);
  const auto& s = original.status();
  const auto status = s == "accepted"     ? ordo::outcome_status::accepted
                      : s == "rejected"   ? ordo::outcome_status::rejected
                      : s == "overloaded" ? ordo::outcome_status::overloaded
                                          : ordo::outcome_status::failed;
  FUZZ_CHECK(o.status == status, "status " + s);
  FUZZ_CHECK(o.entity_id == original.entity_id() && o.first_seq == original.first_seq() &&
                 o.last_seq == original.last_seq() && o.duplicate == original.duplicate() &&
                 o.code == original.code() && o.message == original.message() &&
                 o.unknown_if_applied == original.unknown_if_applied(),
             "a field of the forwarded outcome was lost");
  FUZZ_CHECK(o.events.size() == static_cast<size_t>(original.events_size()), "events lost");
  for (size_t i = 0; i < o.events.size(); ++i)
    FUZZ_CHECK(same(o.events[i], original.events(static_cast<int>(i))), "event changed");
}

void cluster_state(std::string_view bytes) {
  v1::ClusterState st;
  if (!decode(bytes, st)) return;
  // ownership::open reads the file a node persisted; the shard count must match the config.
  if (st.shard_count() == 0 || st.shard_count() > 1024) return;
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr ? dir : "/tmp") + "/ordo-fuzz-cluster-state-" +
           std::to_string(::getpid()) + ".pb";
  }();
  {
    std::ofstream out{path, std::ios::binary | std::ios::trunc};
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  cluster::ownership::options o;
  o.state_path = path;
  o.self = 1;
  o.shard_count = static_cast<uint16_t>(st.shard_count());
  o.config_members = {{1, "127.0.0.1", 7001}};
  auto own = cluster::ownership::open(o);
  if (own) {
    for (uint16_t s = 0; s < o.shard_count; ++s) {
      (void)(*own)->place(s);
      (void)(*own)->owner(s);
      (void)(*own)->owner_epoch(s);
    }
    (void)(*own)->known_members();
    (void)(*own)->owned();
    for (const auto& m : (*own)->moving_out())
      FUZZ_CHECK(m.shard() < o.shard_count, "opened a state moving out shard " +
                                                std::to_string(m.shard()) + " of " +
                                                std::to_string(o.shard_count));
  }
  std::remove(path.c_str());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes{reinterpret_cast<const char*>(data), size};

  v1::ForwardedCommand fc;
  if (decode(bytes, fc)) (void)ordo::domain::check_command_envelope(fc.command());

  forwarded_outcome(bytes);

  v1::ForwardedRead fr;
  decode(bytes, fr);

  v1::ForwardedState fs; // its state is an order or inventory state, serialized
  if (decode(bytes, fs)) {
    v1::OrderState os;
    decode(fs.state(), os);
    v1::InventoryState is;
    decode(fs.state(), is);
  }

  v1::ClusterControl ctl; // membership change, move, shard records, activate, commit
  decode(bytes, ctl);
  v1::ControlAnswer answer;
  decode(bytes, answer);

  cluster_state(bytes);
  return 0;
}
