// ordoctl: operate a running Ordo node over its HTTP API (docs/api.md).
//
//   ordoctl [--node http://127.0.0.1:8080] [--key API_KEY] <command> [args]
//
// The node address and key may also come from ORDO_NODE and ORDO_API_KEY (a key on the
// command line is visible to other users of the machine in `ps`). Exit status: 0 on a 2xx
// answer, 1 on an error answer (printed as the node sent it), 2 on usage errors, 3 when the
// node cannot be reached.
//
// The commands are one table (commands() below): name, help, the options it takes, and what
// it does. Arguments are parsed by CLI11 (docs/dependencies.md); request bodies are built as
// the API's Protobuf messages and printed by the node's own JSON mapping.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "app/scenario/remote.hpp"
#include "messages/json/json.hpp"
#include "net/http_client.hpp"
#include "ordo/parse_number.hpp"
#include "ordo/v1/api.pb.h"

namespace {

using ordo::net::http_client;
using ordo::net::http_result;
namespace v1 = ordo::v1;

constexpr int exit_usage = 2;

// Every value any command takes; each command binds the ones it needs.
struct args {
  std::string node = "http://127.0.0.1:8080";
  std::string key;
  std::string idempotency_key;
  std::string order_id, sku, customer, merchant, currency = "EUR", reason = "ordoctl";
  std::string carrier, tracking, consumer, file, name;
  std::vector<std::string> lines, members;
  int64_t amount = 0, quantity = 0, unit_minor = 0;
  uint64_t after = 0;
  bool follow = false;
};

int print_result(const http_result& r) {
  if (r.status == 0) {
    fmt::print(stderr, "ordoctl: {}\n", r.error);
    return 3;
  }
  if (r.status >= 200 && r.status < 300) {
    fmt::print("{}\n", r.body);
    return 0;
  }
  fmt::print(stderr, "HTTP {}: {}\n", r.status, r.body);
  return 1;
}

std::vector<std::pair<std::string, std::string>> key_header(const args& a) {
  if (!a.idempotency_key.empty()) return {{"Idempotency-Key", a.idempotency_key}};
  std::random_device rd;
  return {{"Idempotency-Key", fmt::format("ordoctl-{:08x}{:08x}", rd(), rd())}};
}

int post(http_client& c, const args& a, const std::string& path,
         const google::protobuf::Message& body) {
  return print_result(c.post(path, ordo::json::print(body), key_header(a)));
}

void set_money(v1::Money& m, int64_t minor, const std::string& currency) {
  m.set_amount_minor(minor);
  m.set_currency(currency);
}

// The figures worth a glance, picked out of /metrics.
int status(http_client& c, const args&) {
  auto ready = c.get("/readyz");
  fmt::print("ready: {}\n", ready.status == 200 ? "yes"
                            : ready.status == 0 ? ready.error
                                                : "no (" + ready.body + ")");
  if (ready.status == 0) return 3;
  auto m = c.get("/metrics");
  if (m.status != 200) return print_result(m);
  size_t pos = 0;
  while (pos < m.body.size()) {
    size_t e = m.body.find('\n', pos);
    if (e == std::string::npos) e = m.body.size();
    auto line = m.body.substr(pos, e - pos);
    pos = e + 1;
    if (line.empty() || line[0] == '#' || line.find("_bucket") != std::string::npos) continue;
    for (const char* k :
         {"ordo_commands", "ordo_actors_active", "ordo_journal_batches", "ordo_journal_queue",
          "ordo_feed", "ordo_http_connections_open", "ordo_http_requests_total"})
      if (line.rfind(k, 0) == 0) {
        fmt::print("  {}\n", line);
        break;
      }
  }
  return 0;
}

int members(http_client& c, const args& a) {
  v1::ClusterMembers body;
  for (const auto& m : a.members) {
    auto eq = m.find('='), colon = m.rfind(':');
    uint32_t id = 0, port = 0;
    if (eq == std::string::npos || colon == std::string::npos || colon < eq ||
        ordo::parse_unsigned(m.substr(0, eq), id, 0, 65535) != ordo::number_error::none ||
        ordo::parse_unsigned(m.substr(colon + 1), port, 1, 65535) != ordo::number_error::none) {
      fmt::print(stderr, "ordoctl: members wants ID=HOST:PORT, not '{}'\n", m);
      return exit_usage;
    }
    auto* n = body.add_nodes();
    n->set_id(id);
    n->set_host(m.substr(eq + 1, colon - eq - 1));
    n->set_port(port);
  }
  return print_result(c.post("/v1/cluster/members", ordo::json::print(body)));
}

int place(http_client& c, const args& a) {
  v1::PlaceOrder body;
  body.set_customer_id(a.customer);
  if (!a.merchant.empty()) body.set_merchant_id(a.merchant);
  body.set_currency(a.currency);
  for (const auto& l : a.lines) {
    auto x = l.find(':'), y = l.rfind(':');
    long long qty = 0, unit = 0;
    if (x == std::string::npos || x == y ||
        std::sscanf(l.substr(x + 1, y - x - 1).c_str(), "%lld", &qty) != 1 ||
        std::sscanf(l.substr(y + 1).c_str(), "%lld", &unit) != 1) {
      fmt::print(stderr, "ordoctl: --line wants SKU:QTY:UNIT_MINOR, not '{}'\n", l);
      return exit_usage;
    }
    auto* line = body.add_lines();
    line->set_sku(l.substr(0, x));
    line->set_quantity(qty);
    set_money(*line->mutable_unit_price(), unit, a.currency);
  }
  auto* to = body.mutable_shipping_address();
  to->set_name("ordoctl");
  to->set_line1("1 Main St");
  to->set_city("Berlin");
  to->set_postal_code("10115");
  to->set_country("DE");
  return post(c, a, "/v1/orders", body);
}

int refund(http_client& c, const args& a) {
  v1::RefundOrder body;
  set_money(*body.mutable_amount(), a.amount, a.currency);
  body.set_reason(a.reason);
  return post(c, a, "/v1/orders/" + a.order_id + "/refund", body);
}

int cancel(http_client& c, const args& a) {
  v1::CancelOrder body;
  body.set_reason(a.reason);
  return post(c, a, "/v1/orders/" + a.order_id + "/cancel", body);
}

int ship(http_client& c, const args& a) {
  v1::MarkShipped body;
  body.set_carrier(a.carrier);
  body.set_tracking_number(a.tracking);
  return post(c, a, "/v1/orders/" + a.order_id + "/shipment", body);
}

int restock(http_client& c, const args& a) {
  v1::Restock body;
  body.set_quantity(a.quantity);
  return post(c, a, "/v1/inventory/" + a.sku + "/restock", body);
}

int price(http_client& c, const args& a) {
  v1::SetPrice body;
  set_money(*body.mutable_price(), a.unit_minor, a.currency);
  return post(c, a, "/v1/inventory/" + a.sku + "/price", body);
}

int owner(http_client& c, const args& a) {
  v1::AssignOwner body;
  body.set_merchant_id(a.merchant);
  return post(c, a, "/v1/inventory/" + a.sku + "/owner", body);
}

// One line per feed item ({"position":"7","event":{...}}); --follow long-polls for more. As a
// named consumer (--consumer), the node keeps the offset: the first page resumes where NAME
// left off (unless --after), each later request commits the page printed.
int tail(http_client& c, const args& a, bool after_given) {
  uint64_t after = a.after;
  bool resume = !a.consumer.empty() && !after_given;
  for (;;) {
    std::string from = resume ? "" : fmt::format("after={}&", after);
    if (!a.consumer.empty()) from += "consumer=" + a.consumer + "&";
    resume = false;
    // A long poll well inside the client's 10 s timeout: a quiet feed answers an empty page
    // at wait_ms, which must arrive before the client gives up on the request.
    auto r = c.get(fmt::format("/v1/events?{}limit=500&wait_ms={}", from, a.follow ? 5'000 : 0));
    if (r.status != 200) return print_result(r);
    v1::FeedPage page;
    if (auto e = ordo::json::parse(r.body, page); !e.empty()) {
      fmt::print(stderr, "ordoctl: unreadable feed page: {}\n", e);
      return 1;
    }
    for (const auto& item : page.events())
      fmt::print("{}\n", ordo::json::print(item));
    std::fflush(stdout);
    // The request that returned an empty page committed everything printed before it.
    if (page.events().empty() && !a.follow) return 0;
    after = page.next_after();
  }
}

int scenario(http_client& c, const args& a) {
  auto rep = ordo::scenario::run_remote_file(a.file, c);
  for (const auto& f : rep.failures)
    fmt::print("FAIL {}\n", f);
  fmt::print("scenario {}: {} steps, {} failed\n", a.file, rep.steps_run, rep.failures.size());
  return rep.failures.empty() ? 0 : 1;
}

struct command {
  const char* name;
  const char* help;
  std::function<void(CLI::App&, args&)> options;
  std::function<int(http_client&, const args&, CLI::App&)> run;
};

// The commands: what each takes, and what it does.
std::vector<command> commands() {
  auto order_id = [](CLI::App& s, args& a) {
    s.add_option("ORDER_ID", a.order_id, "the order")->required();
  };
  auto sku = [](CLI::App& s, args& a) { s.add_option("SKU", a.sku, "the SKU")->required(); };
  auto none = [](CLI::App&, args&) {};
  return {
      {"status", "readiness and the node's main figures", none,
       [](http_client& c, const args& a, CLI::App&) { return status(c, a); }},
      {"cluster", "the nodes, their shards, health and handoffs", none,
       [](http_client& c, const args&, CLI::App&) { return print_result(c.get("/v1/cluster")); }},
      {"members",
       "change the cluster membership to exactly these nodes (their cluster ports), moving "
       "shards by handoff; see `cluster` for progress",
       [](CLI::App& s, args& a) {
         s.add_option("ID=HOST:PORT", a.members, "the new membership")->required();
       },
       [](http_client& c, const args& a, CLI::App&) { return members(c, a); }},
      {"place", "place an order (an idempotency key is generated if absent)",
       [](CLI::App& s, args& a) {
         s.add_option("--customer", a.customer, "the customer id")->required();
         s.add_option("--merchant", a.merchant, "the merchant id");
         s.add_option("--currency", a.currency, "ISO-4217 code")->capture_default_str();
         s.add_option("--line", a.lines, "SKU:QTY:UNIT_MINOR (repeat for more lines)")
             ->required();
       },
       [](http_client& c, const args& a, CLI::App&) { return place(c, a); }},
      {"get", "the order's committed state", order_id,
       [](http_client& c, const args& a, CLI::App&) {
         return print_result(c.get("/v1/orders/" + a.order_id));
       }},
      {"cancel", "cancel an order before shipment",
       [order_id](CLI::App& s, args& a) {
         order_id(s, a);
         s.add_option("--reason", a.reason, "why")->capture_default_str();
       },
       [](http_client& c, const args& a, CLI::App&) { return cancel(c, a); }},
      {"refund", "refund part or all of a captured payment",
       [order_id](CLI::App& s, args& a) {
         order_id(s, a);
         s.add_option("--amount", a.amount, "minor units")->required();
         s.add_option("--currency", a.currency, "ISO-4217 code")->capture_default_str();
         s.add_option("--reason", a.reason, "why")->capture_default_str();
       },
       [](http_client& c, const args& a, CLI::App&) { return refund(c, a); }},
      {"ship", "report a shipment",
       [order_id](CLI::App& s, args& a) {
         order_id(s, a);
         s.add_option("--carrier", a.carrier, "the carrier")->required();
         s.add_option("--tracking", a.tracking, "the tracking number")->required();
       },
       [](http_client& c, const args& a, CLI::App&) { return ship(c, a); }},
      {"deliver", "report a delivery", order_id,
       [](http_client& c, const args& a, CLI::App&) {
         return print_result(
             c.post("/v1/orders/" + a.order_id + "/delivery", "{}", key_header(a)));
       }},
      {"stock", "a SKU's inventory", sku,
       [](http_client& c, const args& a, CLI::App&) {
         return print_result(c.get("/v1/inventory/" + a.sku));
       }},
      {"restock", "add stock",
       [sku](CLI::App& s, args& a) {
         sku(s, a);
         s.add_option("QUANTITY", a.quantity, "units to add")->required();
       },
       [](http_client& c, const args& a, CLI::App&) { return restock(c, a); }},
      {"price", "set the SKU's price of record (orders must carry it; another is rejected)",
       [sku](CLI::App& s, args& a) {
         sku(s, a);
         s.add_option("UNIT_MINOR", a.unit_minor, "price of one unit, minor units")->required();
         s.add_option("--currency", a.currency, "ISO-4217 code")->capture_default_str();
       },
       [](http_client& c, const args& a, CLI::App&) { return price(c, a); }},
      {"owner", "assign the SKU to a merchant (operations key)",
       [sku](CLI::App& s, args& a) {
         sku(s, a);
         s.add_option("MERCHANT_ID", a.merchant, "the merchant")->required();
       },
       [](http_client& c, const args& a, CLI::App&) { return owner(c, a); }},
      {"tail",
       "print the event feed from after position N; as a named consumer, resume where it left "
       "off and commit each page printed",
       [](CLI::App& s, args& a) {
         s.add_option("--after", a.after, "start after this feed position");
         s.add_flag("--follow", a.follow, "keep following the feed");
         s.add_option("--consumer", a.consumer, "read as this named consumer");
       },
       [](http_client& c, const args& a, CLI::App& s) {
         return tail(c, a, s.count("--after") > 0);
       }},
      {"consumers", "the named feed consumers: offset and lag; `consumers forget NAME` removes one",
       [](CLI::App& s, args& a) {
         auto* forget = s.add_subcommand("forget", "remove a named consumer");
         forget->add_option("NAME", a.name, "the consumer")->required();
       },
       [](http_client& c, const args& a, CLI::App& s) {
         if (s.got_subcommand("forget"))
           return print_result(c.request("DELETE", "/v1/events/consumers/" + a.name));
         return print_result(c.get("/v1/events/consumers"));
       }},
      {"scenario", "run a scenario file (docs/scenarios.md) against the node (operations key)",
       [](CLI::App& s, args& a) {
         s.add_option("FILE", a.file, "the scenario file")->required()->check(CLI::ExistingFile);
       },
       [](http_client& c, const args& a, CLI::App&) { return scenario(c, a); }},
  };
}

} // namespace

int main(int argc, char** argv) {
  args a;
  CLI::App app{"ordoctl: operate a running Ordo node over its HTTP API (docs/api.md)"};
  app.fallthrough(); // --node and --key are taken after the command too
  app.require_subcommand(1);
  app.add_option("--node", a.node, "the node's URL")->envname("ORDO_NODE")->capture_default_str();
  app.add_option("--key", a.key, "API key (none for a node without keys)")
      ->envname("ORDO_API_KEY");
  app.add_option("--idempotency-key", a.idempotency_key,
                 "the command's key (default: a fresh one; reuse it to retry)");
  const auto table = commands();
  std::vector<CLI::App*> subs;
  for (const auto& cmd : table) {
    subs.push_back(app.add_subcommand(cmd.name, cmd.help));
    cmd.options(*subs.back(), a);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage; // --help: 0; usage errors: 2
  }
  http_client c{a.node, a.key};
  for (size_t i = 0; i < table.size(); ++i)
    if (subs[i]->parsed()) return table[i].run(c, a, *subs[i]);
  return exit_usage; // unreachable: require_subcommand(1)
}
