// Writes the seed corpus of every fuzz target: small valid inputs of each kind, so the fuzzers
// start from real requests, bodies, records and messages rather than from nothing.
//   cmake --build BUILD --target fuzz_make_corpus
//   BUILD/fuzz/fuzz_make_corpus fuzz/corpus app/node/ordo-node.example.toml
// Deterministic: running it again rewrites the same files (checked in under fuzz/corpus/).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "domain/snapshot.hpp"
#include "messages/json/json.hpp"
#include "ordo/v1/api.pb.h"
#include "ordo/v1/cluster.pb.h"
#include "ordo/v1/envelope.pb.h"
#include "storage/codec.hpp"
#include "storage/log_format.hpp"

namespace fs = std::filesystem;
namespace v1 = ordo::v1;
namespace codec = ordo::storage::codec;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, const std::string& bytes) {
  fs::create_directories(root / target);
  std::ofstream out{root / target / name, std::ios::binary | std::ios::trunc};
  out << bytes;
}

v1::Money money(int64_t minor) {
  v1::Money m;
  m.set_amount_minor(minor);
  m.set_currency("EUR");
  return m;
}

v1::OrderLine line(const std::string& sku, int64_t q, int64_t price) {
  v1::OrderLine l;
  l.set_sku(sku);
  l.set_quantity(q);
  *l.mutable_unit_price() = money(price);
  return l;
}

v1::PlaceOrder place() {
  v1::PlaceOrder p;
  p.set_customer_id("c-1");
  p.set_merchant_id("m-1");
  *p.add_lines() = line("SKU-1", 2, 1500);
  *p.add_lines() = line("SKU-2", 1, 250);
  p.set_currency("EUR");
  auto* a = p.mutable_shipping_address();
  a->set_name("Ada Lovelace");
  a->set_line1("12 Example Street");
  a->set_city("Berlin");
  a->set_postal_code("10115");
  a->set_country("DE");
  return p;
}

v1::Envelope envelope(uint64_t seq) {
  v1::Envelope e;
  e.set_schema_version(1);
  e.set_entity_type(v1::ENTITY_TYPE_ORDER);
  e.set_entity_id("o-0001-0000000001");
  e.set_sequence(seq);
  e.set_timestamp_ms(1'700'000'000'000);
  e.set_correlation_id("o-0001-0000000001");
  e.set_causation_id("k-1");
  e.set_idempotency_key("k-1");
  return e;
}

std::string ser(const google::protobuf::Message& m) {
  return m.SerializeAsString();
}

// ---- http_request: what clients send ----
void http() {
  const std::string body = ordo::json::print(place());
  put("http_request", "get_order.http",
      "GET /v1/orders/o-0001-0000000001 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: "
      "Bearer 0123456789abcdef\r\n\r\n");
  put("http_request", "place_order.http",
      "POST /v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: "
      "k-1\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body);
  put("http_request", "chunked.http",
      "POST /v1/inventory/SKU-1/restock HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
      "chunked\r\nIdempotency-Key: r-1\r\n\r\n7\r\n{\"quant\r\n9;ext=1\r\nity\":10}\r\n0\r\n\r\n");
  put("http_request", "query_http10.http",
      "GET /v1/events?after=10&max=100&consumer=mailer HTTP/1.0\r\nConnection: "
      "keep-alive\r\n\r\n");
  put("http_request", "pipelined.http",
      "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\nDELETE /v1/events/consumers/mailer "
      "HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  put("http_request", "big_head.http",
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(300, 'a') + "\r\n\r\n");
  put("http_request", "big_body.http",
      "POST /v1/orders/o-1/cancel HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"reason\":\"" +
          std::string(86, 'r') + "\"}");
  put("http_request", "bad_method.http", "G@T / HTTP/1.1\r\n\r\n");
}

// ---- json_body: every body type the API parses ----
void json() {
  auto j = [](const std::string& name, const google::protobuf::Message& m) {
    put("json_body", name + ".json", ordo::json::print(m));
  };
  j("place_order", place());
  v1::CancelOrder c;
  c.set_reason("changed my mind");
  j("cancel_order", c);
  v1::RefundOrder r;
  *r.mutable_amount() = money(1500);
  r.set_reason("damaged");
  r.set_restock(true);
  *r.add_restock_lines() = line("SKU-1", 1, 1500);
  j("refund_order", r);
  v1::MarkShipped s;
  s.set_carrier("DHL");
  s.set_tracking_number("JD0123");
  j("mark_shipped", s);
  j("mark_delivered", v1::MarkDelivered{});
  v1::PaymentWebhook w;
  w.set_order_id("o-0001-0000000001");
  w.set_result("authorized");
  w.set_payment_id("pay-1");
  *w.mutable_amount() = money(3250);
  j("payment_webhook", w);
  v1::OrderCommand oc;
  oc.set_order_id("o-0001-0000000001");
  oc.mutable_payment_authorized()->set_payment_id("pay-1");
  *oc.mutable_payment_authorized()->mutable_amount() = money(3250);
  j("order_command", oc);
  v1::InventoryCommand ic;
  ic.set_sku("SKU-1");
  ic.set_acting_merchant("m-1");
  *ic.mutable_set_price()->mutable_price() = money(1500);
  j("inventory_command", ic);
  v1::Restock rs;
  rs.set_quantity(10);
  j("restock", rs);
  v1::Adjust ad;
  ad.set_delta(-3);
  ad.set_reason("count");
  j("adjust", ad);
  v1::ClusterMembers cm;
  for (int i = 1; i <= 3; ++i) {
    auto* m = cm.add_nodes();
    m->set_id(static_cast<uint32_t>(i));
    m->set_host("127.0.0.1");
    m->set_port(static_cast<uint32_t>(7000 + i));
  }
  j("cluster_members", cm);
  // Protobuf's lenient forms: lowerCamel names, numbers as strings, enum numbers, nulls.
  put("json_body", "lenient.json",
      "{ \"customerId\": \"c-1\", 'lines': [{\"sku\":\"S\",\"quantity\":\"2\",\"unitPrice\":"
      "{\"amountMinor\":1.5e3,\"currency\":\"EUR\"}}, null], \"currency\": \"EUR\", "
      "\"shipping_address\": null, }");
}

// ---- envelope ----
void envelopes() {
  auto e = envelope(0);
  e.mutable_order_command()->set_order_id(e.entity_id());
  *e.mutable_order_command()->mutable_place_order() = place();
  put("envelope", "place_order_command.pb", ser(e));
  e = envelope(1);
  auto* ev = e.mutable_order_event();
  ev->set_order_id(e.entity_id());
  ev->set_at_ms(1'700'000'000'000);
  auto* placed = ev->mutable_order_placed();
  placed->set_customer_id("c-1");
  *placed->add_lines() = line("SKU-1", 2, 1500);
  placed->set_currency("EUR");
  placed->set_total_minor(3000);
  put("envelope", "order_placed_event.pb", ser(e));
  e = envelope(2);
  e.mutable_order_event()->set_order_id(e.entity_id());
  e.mutable_order_event()->mutable_order_shipped()->set_carrier("DHL");
  put("envelope", "order_shipped_event.pb", ser(e));
  e = envelope(0);
  e.set_entity_type(v1::ENTITY_TYPE_INVENTORY);
  e.set_entity_id("SKU-1");
  e.mutable_inventory_command()->set_sku("SKU-1");
  e.mutable_inventory_command()->mutable_reserve()->set_order_id("o-1");
  e.mutable_inventory_command()->mutable_reserve()->set_quantity(2);
  *e.mutable_inventory_command()->mutable_reserve()->mutable_unit_price() = money(1500);
  put("envelope", "reserve_command.pb", ser(e));
  e = envelope(3);
  e.set_entity_type(v1::ENTITY_TYPE_INVENTORY);
  e.set_entity_id("SKU-1");
  e.mutable_inventory_event()->set_sku("SKU-1");
  e.mutable_inventory_event()->mutable_restocked()->set_quantity(10);
  put("envelope", "restocked_event.pb", ser(e));
  e = envelope(4);
  e.set_schema_version(2);
  e.mutable_opaque()->set_type("ordo.v2.OrderEvent");
  e.mutable_opaque()->set_data(std::string("\x0a\x03o-1\x10\xff\x01", 8));
  put("envelope", "opaque_newer.pb", ser(e));
  v1::IdempotencyRecord rec;
  rec.mutable_accepted()->set_first_sequence(1);
  rec.mutable_accepted()->set_event_count(3);
  put("envelope", "idempotency_accepted.pb", ser(rec));
  rec.mutable_rejection()->set_code(v1::REJECTION_CODE_INVALID_ARGUMENT);
  rec.mutable_rejection()->set_message("lines[0].quantity: must be 1..10000");
  put("envelope", "idempotency_rejected.pb", ser(rec));
}

// ---- journal_record: mode(1) key_len(1) key value ----
void records() {
  auto rec = [](const std::string& name, uint8_t mode, const std::string& key,
                const std::string& value) {
    std::string in;
    in += static_cast<char>(mode);
    in += static_cast<char>(key.size());
    in += key + value;
    put("journal_record", name, in);
  };
  const std::string pos = codec::u64_key(42);
  const std::string event = ser(envelope(1));
  rec("log_record", 0, pos, codec::encode_log(pos, 0x1234abcd, 7, "o/o-0001-0000000001", event));
  rec("log_record_first", 0, codec::u64_key(1),
      codec::encode_log(codec::u64_key(1), 0, 1, "i/SKU-1", "x"));
  const std::string ik = codec::index_key("o/o-1", 7);
  rec("index_entry", 0, ik, codec::encode_index(ik, 42, 0xdeadbeef));
  rec("offset", 0, "mailer", codec::seal("mailer", codec::u64_key(1000)));
  const std::string pk = codec::pair_key("o/o-1", "k-1");
  rec("idempotency_sealed", 1, pk, codec::u64_key(1'700'000'000'000) + "result");
  rec("timer_key", 1, codec::timer_key(1'700'000'030'000, "o/o-1", "payment"),
      codec::u64_key(1'700'000'030'000));
  // Sealed bodies: the layouts behind a good checksum.
  std::string body;
  codec::put_u32(body, 0);
  codec::put_u64(body, 1);
  body += static_cast<char>(5);
  body += "o/o-1payload";
  rec("log_body_sealed", 1, pos, body);
}

// ---- log_frame: mode(1) frame bytes | batch payload ----
void log_frames() {
  namespace logfmt = ordo::storage::logfmt;
  logfmt::logged_batch b;
  b.epoch = 1;
  b.position = 7;
  logfmt::logged_request placed;
  placed.req.entity = "o/o-0001-0000000001";
  placed.req.expected_seq = 0;
  placed.req.now_ms = 1'700'000'000'000;
  placed.req.events = {ser(envelope(1)), ser(envelope(2))};
  placed.req.idempotency.push_back({"o/o-0001-0000000001", "k-1", "accepted"});
  placed.req.timer_schedules.push_back({"payment", 1'700'000'030'000, "expire"});
  placed.first_position = 41;
  logfmt::logged_request stock;
  stock.req.entity = "i/SKU-1";
  stock.req.expected_seq = 3;
  stock.req.now_ms = 1'700'000'000'001;
  stock.req.events = {"reserved"};
  stock.req.snapshot = ordo::storage::snapshot_write{4, "state"};
  stock.req.timer_cancels = {"restock"};
  stock.first_position = 43;
  b.requests = {placed, stock};
  const std::string payload = logfmt::encode_batch(b);
  put("log_frame", "frame", std::string(1, '\0') + logfmt::encode_frame(1, 7, payload));
  put("log_frame", "frame_then_zeros",
      std::string(1, '\0') + logfmt::encode_frame(1, 7, payload) + std::string(64, '\0'));
  put("log_frame", "zeros", std::string(1, '\0') + std::string(28, '\0'));
  put("log_frame", "batch", std::string(1, '\1') + payload);
  put("log_frame", "batch_empty", std::string(1, '\1') + logfmt::encode_batch({}));
}

// ---- snapshot: seq(8) then the bare state (as first written) or the versioned layout ----
void snapshots() {
  v1::OrderState o;
  o.set_order_id("o-0001-0000000001");
  o.set_status(v1::ORDER_STATUS_SHIPPED);
  o.set_customer_id("c-1");
  *o.add_lines() = line("SKU-1", 2, 1500);
  o.set_currency("EUR");
  o.set_total_minor(3000);
  o.set_authorized_minor(3000);
  o.set_payment_id("pay-1");
  o.set_carrier("DHL");
  o.set_last_sequence(6);
  (*o.mutable_restocked())["SKU-1"] = 1;
  put("snapshot", "order_state.bin", codec::u64_key(6) + ser(o));
  put("snapshot", "order_versioned.bin", codec::u64_key(6) + ordo::domain::encode_snapshot(o));
  v1::InventoryState s;
  s.set_sku("SKU-1");
  s.set_on_hand(10);
  (*s.mutable_reservations())["o-1"] = 2;
  (*s.mutable_reservations())["o-2"] = 1;
  s.set_reserved_total(3);
  (*s.mutable_committed())["o-0"] = 1;
  s.set_committed_total(1);
  s.add_committed_order("o-0");
  *s.mutable_price() = money(1500);
  s.set_merchant_id("m-1");
  s.set_last_sequence(9);
  put("snapshot", "inventory_state.bin", codec::u64_key(9) + ser(s));
  put("snapshot", "inventory_versioned.bin", codec::u64_key(9) + ordo::domain::encode_snapshot(s));
}

// ---- node_config ----
void configs(const fs::path& example) {
  std::ifstream in{example};
  put("node_config", "example.toml", std::string{std::istreambuf_iterator<char>(in), {}});
  put("node_config", "keys_and_cluster.toml",
      "[http]\nlisten = \"0.0.0.0:8080\"\nidle_timeout = \"2m\"\n\n"
      "[[auth.keys]]\nname = \"ops\"\nkey = \"0123456789abcdef0123\"\nrole = \"operations\"\n\n"
      "[[auth.keys]]\nname = \"shop\"\nkey = \"fedcba9876543210fedc\"\nrole = \"customer\"\n"
      "subject = \"c-1\"\n\n"
      "[cluster]\njoin = false\n\n[[cluster.nodes]]\nid = 1\nhost = \"127.0.0.1\"\nport = 7001\n"
      "\n[[cluster.nodes]]\nid = 2\nhost = \"127.0.0.1\"\nport = 7002\n");
  put("node_config", "durations.toml",
      "[journal]\nbatch_wait = \"150us\"\nidempotency_retention = \"2d\"\nfeed_retention = "
      "\"1h\"\n[limits]\npassivate_after = 45000\n[saga]\npayment_timeout = \"5m\"\n");
  put("node_config", "overrides.txt", "node.id=7\nhttp.listen=127.0.0.1:0\njournal.durability=no_sync\n");
}

// ---- cluster_message ----
// Forwarded commands, outcomes, reads and states between nodes.
void cluster_forwarded(const v1::OrderState& os) {
  v1::ForwardedCommand fc;
  fc.set_from_node(2);
  fc.set_cluster_id(0x1122334455667788);
  fc.set_shard(5);
  *fc.mutable_command() = envelope(0);
  fc.mutable_command()->mutable_order_command()->set_order_id("o-0001-0000000001");
  fc.mutable_command()->mutable_order_command()->mutable_cancel_order()->set_reason("r");
  put("cluster_message", "forwarded_command.pb", ser(fc));
  v1::ForwardedOutcome fo;
  fo.set_status("accepted");
  fo.set_entity_id("o-0001-0000000001");
  fo.set_first_seq(1);
  fo.set_last_seq(2);
  auto* ev = fo.add_events();
  *ev = envelope(1);
  ev->mutable_order_event()->mutable_stock_reserved();
  put("cluster_message", "forwarded_outcome.pb", ser(fo));
  v1::ForwardedOutcome no;
  no.set_status("failed");
  no.set_code("not_owner");
  no.set_message("shard 5 moved");
  no.set_owner_hint(3);
  no.set_owner_epoch(4);
  no.set_unknown_if_applied(true);
  put("cluster_message", "forwarded_not_owner.pb", ser(no));
  v1::ForwardedRead fr;
  fr.set_from_node(1);
  fr.set_cluster_id(0x1122334455667788);
  fr.set_entity_type(v1::ENTITY_TYPE_INVENTORY);
  fr.set_entity_id("SKU-1");
  put("cluster_message", "forwarded_read.pb", ser(fr));
  v1::ForwardedState fs;
  fs.set_state(ser(os));
  put("cluster_message", "forwarded_state.pb", ser(fs));
}

// The persisted cluster state: members, owners, a shard moving out, a pending change.
v1::ClusterState cluster_state() {
  v1::ClusterState st;
  st.set_cluster_id(0x1122334455667788);
  st.set_epoch(3);
  st.set_shard_count(4);
  for (uint32_t i = 1; i <= 2; ++i) {
    auto* m = st.add_members();
    m->set_id(i);
    m->set_host("127.0.0.1");
    m->set_port(7000 + i);
  }
  for (uint32_t s = 0; s < 4; ++s) {
    st.add_owner(s % 2 + 1);
    st.add_owner_epoch(3);
  }
  auto* mo = st.add_moving_out();
  mo->set_shard(1);
  mo->set_to_node(2);
  mo->set_epoch(4);
  st.mutable_pending()->set_epoch(4);
  *st.mutable_pending()->add_members() = st.members(0);
  return st;
}

// Control messages of a membership change: the change, its records, its commit.
void cluster_control(const v1::ClusterState& st, const v1::OrderState& os) {
  v1::ClusterControl ctl;
  ctl.set_from_node(1);
  ctl.set_cluster_id(0x1122334455667788);
  auto* ch = ctl.mutable_change();
  ch->set_epoch(4);
  *ch->add_members() = st.members(0);
  for (uint32_t s = 0; s < 4; ++s) {
    ch->add_owner(1);
    ch->add_owner_epoch(3);
    ch->add_target(1);
  }
  put("cluster_message", "control_change.pb", ser(ctl));
  auto* recs = ctl.mutable_records();
  recs->set_epoch(4);
  recs->set_shard(1);
  auto* er = recs->add_entities();
  er->set_entity("o/o-1");
  auto* se = er->add_events();
  se->set_seq(1);
  se->set_bytes(ser(envelope(1)));
  er->set_has_snapshot(true);
  er->set_snapshot_seq(1);
  er->set_snapshot(ser(os));
  auto* si = er->add_idempotency();
  si->set_key("k-1");
  si->set_created_ms(1'700'000'000'000);
  si->set_result("r");
  auto* tm = er->add_timers();
  tm->set_timer_id("payment");
  tm->set_due_ms(1'700'000'030'000);
  put("cluster_message", "control_records.pb", ser(ctl));
  ctl.mutable_commit()->set_epoch(4);
  *ctl.mutable_commit()->add_members() = st.members(0);
  ctl.mutable_commit()->add_owner(1);
  put("cluster_message", "control_commit.pb", ser(ctl));
}

void cluster() {
  v1::OrderState os;
  os.set_order_id("o-1");
  os.set_status(v1::ORDER_STATUS_PLACED);
  os.set_last_sequence(1);
  cluster_forwarded(os);
  const v1::ClusterState st = cluster_state();
  put("cluster_message", "cluster_state.pb", ser(st));
  cluster_control(st, os);
  v1::ControlAnswer a;
  a.set_error("already_active");
  a.set_imported(12);
  put("cluster_message", "control_answer.pb", ser(a));
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fuzz_make_corpus CORPUS_DIR EXAMPLE_CONFIG\n");
    return 2;
  }
  root = argv[1];
  http();
  json();
  envelopes();
  records();
  log_frames();
  snapshots();
  configs(argv[2]);
  cluster();
  std::printf("seeds written under %s\n", root.c_str());
  return 0;
}
