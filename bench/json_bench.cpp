// json_bench: JSON ⇄ Protobuf cost per API body, protobuf's util against proto_json (the
// descriptor-driven codec in messages/json/proto_json.hpp): parse of a ~300-byte PlaceOrder body,
// and print of a CommandAnswer carrying one Envelope with an OrderPlaced event (the answer to
// POST /v1/orders?include=events). Prints a human summary and, as the last line, one JSON
// object.
//
//   json_bench [--iterations N]   (default 200000 per measurement)
//
// Each figure is the best of 5 rounds of N calls on one thread, in µs per call: the best round
// is the least disturbed by other processes on a shared machine.

#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include <fmt/core.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "messages/json/proto_json.hpp"
#include "ordo/v1/api.pb.h"

namespace pb = google::protobuf;
using clock_type = std::chrono::steady_clock;

namespace {

// What a client sends to POST /v1/orders: two lines, an address, an optional merchant.
constexpr const char* kPlaceOrder =
    R"({"customer_id":"c-42","merchant_id":"m-7","currency":"EUR",)"
    R"("lines":[{"sku":"SHIRT-M","quantity":"2","unit_price":{"amount_minor":"1999",)"
    R"("currency":"EUR"}},{"sku":"MUG","quantity":1,"unit_price":{"amount_minor":"850",)"
    R"("currency":"EUR"}}],"shipping_address":{"name":"Zoë Mü","line1":"Hauptstr. 5",)"
    R"("city":"Berlin","postal_code":"10115","country":"DE"}})";

ordo::v1::CommandAnswer answer_with_event(const ordo::v1::PlaceOrder& placed) {
  ordo::v1::CommandAnswer a;
  a.set_outcome("accepted");
  a.set_order_id("01JD8Z4W6Q3K7YB2N5M9XTFVHC");
  a.set_first_seq(1);
  a.set_last_seq(1);
  ordo::v1::Envelope* e = a.add_events();
  e->set_schema_version(1);
  e->set_entity_type(ordo::v1::ENTITY_TYPE_ORDER);
  e->set_entity_id(a.order_id());
  e->set_sequence(1);
  e->set_timestamp_ms(1732000000123);
  e->set_correlation_id(a.order_id());
  e->set_causation_id("cmd-01JD8Z4W6Q3K7YB2N5M9XTFVHC");
  e->set_idempotency_key("key-5f1d2c");
  ordo::v1::OrderEvent* ev = e->mutable_order_event();
  ev->set_order_id(a.order_id());
  ev->set_at_ms(1732000000123);
  ordo::v1::OrderPlaced* p = ev->mutable_order_placed();
  p->set_customer_id(placed.customer_id());
  p->set_merchant_id(placed.merchant_id());
  *p->mutable_lines() = placed.lines();
  p->set_currency(placed.currency());
  *p->mutable_shipping_address() = placed.shipping_address();
  p->set_total_minor(2 * 1999 + 850);
  return a;
}

// Best of 5 rounds of `n` calls of `f`, in µs per call.
template <class F>
double best_us(long n, F&& f) {
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    const auto start = clock_type::now();
    for (long i = 0; i < n; ++i)
      f();
    const std::chrono::duration<double, std::micro> took = clock_type::now() - start;
    best = std::min(best, took.count() / static_cast<double>(n));
  }
  return best;
}

[[noreturn]] void die(const std::string& why) {
  fmt::print(stderr, "json_bench: {}\n", why);
  std::exit(1);
}

} // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  long n = 200000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc)
      n = std::atol(argv[++i]);
    else
      die("usage: json_bench [--iterations N]");
  }

  const std::string body = kPlaceOrder;
  pb::util::JsonPrintOptions print_options;
  print_options.preserve_proto_field_names = true;

  // The two codecs must agree before their speed means anything.
  ordo::v1::PlaceOrder pb_order;
  ordo::v1::PlaceOrder fast_order;
  if (!pb::util::JsonStringToMessage(body, &pb_order).ok()) die("protobuf refused the body");
  if (auto e = ordo::proto_json::parse(body, fast_order); !e.empty()) die(e);
  if (!pb::util::MessageDifferencer::Equals(pb_order, fast_order)) die("parse results differ");
  const ordo::v1::CommandAnswer answer = answer_with_event(pb_order);
  std::string pb_text;
  std::string fast_text;
  (void)pb::util::MessageToJsonString(answer, &pb_text, print_options);
  ordo::proto_json::print(answer, fast_text);
  if (pb_text != fast_text) die("printed JSON differs");

  fmt::print("json_bench: {} calls per round, best of 5 rounds, one thread\n", n);
  fmt::print("  PlaceOrder body: {} bytes; CommandAnswer+Envelope(OrderPlaced): {} bytes\n",
             body.size(), pb_text.size());

  const double pb_parse = best_us(n, [&] {
    ordo::v1::PlaceOrder m;
    (void)pb::util::JsonStringToMessage(body, &m);
  });
  const double fast_parse = best_us(n, [&] {
    ordo::v1::PlaceOrder m;
    (void)ordo::proto_json::parse(body, m);
  });
  const double pb_print = best_us(n, [&] {
    std::string out;
    (void)pb::util::MessageToJsonString(answer, &out, print_options);
  });
  const double fast_print = best_us(n, [&] {
    std::string out;
    ordo::proto_json::print(answer, out);
  });

  fmt::print("  parse PlaceOrder:     protobuf {:7.2f} µs   proto_json {:6.2f} µs   ({:.1f}x)\n",
             pb_parse, fast_parse, pb_parse / fast_parse);
  fmt::print("  print CommandAnswer:  protobuf {:7.2f} µs   proto_json {:6.2f} µs   ({:.1f}x)\n",
             pb_print, fast_print, pb_print / fast_print);
  fmt::print("{{\"pb_parse_us\":{:.2f},\"fast_parse_us\":{:.2f},\"pb_print_us\":{:.2f},"
             "\"fast_print_us\":{:.2f}}}\n",
             pb_parse, fast_parse, pb_print, fast_print);
  return 0;
}
