// ordoctl: operate a running Ordo node over its HTTP API (docs/api.md).
//
//   ordoctl [--node http://127.0.0.1:8080] [--key API_KEY] <command> [args]
//
// The node address and key may also come from ORDO_NODE and ORDO_API_KEY (a key on the
// command line is visible to other users of the machine in `ps`). Exit status: 0 on a 2xx
// answer, 1 on an error answer (printed as the node sent it), 2 on usage errors, 3 when the
// node cannot be reached.
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>

#include "app/ctl/http_client.hpp"
#include "messages/json/json.hpp"
#include "app/scenario/remote.hpp"
#include "ordo/v1/api.pb.h"

namespace {

using ordo::ctl::http_client;
using ordo::ctl::http_result;

void usage() {
  fmt::print(
      "usage: ordoctl [--node URL] [--key API_KEY] <command> [args]\n"
      "  --node URL   the node (default $ORDO_NODE or http://127.0.0.1:8080)\n"
      "  --key KEY    API key (default $ORDO_API_KEY; none for a node without keys)\n"
      "commands:\n"
      "  status                                   readiness and the node's main figures\n"
      "  cluster                                  the nodes, their shards, health and handoffs\n"
      "  members ID=HOST:PORT ...                 change the cluster membership to exactly\n"
      "                                           these nodes (their cluster ports), moving\n"
      "                                           shards by handoff; see `cluster` for progress\n"
      "  place --customer C [--merchant M] [--currency EUR] --line SKU:QTY:UNIT_MINOR ...\n"
      "        [--idempotency-key K]              place an order (a key is generated if absent)\n"
      "  get ORDER_ID                             the order's committed state\n"
      "  cancel ORDER_ID [--reason R]\n"
      "  refund ORDER_ID --amount MINOR [--currency EUR] [--reason R]\n"
      "  ship ORDER_ID --carrier C --tracking T   report a shipment\n"
      "  deliver ORDER_ID                         report a delivery\n"
      "  stock SKU                                a SKU's inventory\n"
      "  restock SKU QUANTITY                     add stock\n"
      "  price SKU UNIT_MINOR [--currency EUR]    set the SKU's price of record (orders must\n"
      "                                           carry it; another price is rejected)\n"
      "  owner SKU MERCHANT_ID                    assign the SKU to a merchant (operations)\n"
      "  tail [--after N] [--follow] [--consumer NAME]\n"
      "                                           print the event feed from after position N;\n"
      "                                           as NAME: resume where NAME left off, and\n"
      "                                           commit each page printed\n"
      "  consumers                                the named feed consumers: offset and lag\n"
      "  consumers forget NAME                    remove one (it no longer holds the feed)\n"
      "  scenario FILE                            run a scenario file (docs/scenarios.md)\n"
      "                                           against the node (operations key; no "
      "restarts)\n");
}

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

std::string opt(std::map<std::string, std::vector<std::string>>& o, const std::string& k,
                std::string fallback = {}) {
  auto it = o.find(k);
  return it == o.end() || it->second.empty() ? fallback : it->second.back();
}

std::string fresh_key() {
  std::random_device rd;
  return fmt::format("ordoctl-{:08x}{:08x}", rd(), rd());
}

// The figures worth a glance, picked out of /metrics.
void print_status(http_client& c) {
  auto ready = c.get("/readyz");
  fmt::print("ready: {}\n", ready.status == 200 ? "yes"
                            : ready.status == 0 ? ready.error
                                                : "no (" + ready.body + ")");
  auto m = c.get("/metrics");
  if (m.status != 200) return;
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
}

} // namespace

int main(int argc, char** argv) {
  std::string node = std::getenv("ORDO_NODE") ? std::getenv("ORDO_NODE") : "http://127.0.0.1:8080";
  std::string key = std::getenv("ORDO_API_KEY") ? std::getenv("ORDO_API_KEY") : "";
  std::vector<std::string> pos;
  std::map<std::string, std::vector<std::string>> o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage();
      return 0;
    }
    if (a == "--follow") {
      o["follow"].push_back("1");
    } else if (a.rfind("--", 0) == 0) {
      if (i + 1 >= argc) {
        fmt::print(stderr, "ordoctl: {} needs a value\n", a);
        return 2;
      }
      o[a.substr(2)].push_back(argv[++i]);
    } else {
      pos.push_back(a);
    }
  }
  node = opt(o, "node", node);
  key = opt(o, "key", key);
  if (pos.empty()) {
    usage();
    return 2;
  }
  http_client c{node, key};
  const std::string& cmd = pos[0];
  auto need = [&](size_t n) {
    if (pos.size() < n + 1) {
      fmt::print(stderr, "ordoctl: {} needs {} argument(s) (see --help)\n", cmd, n);
      return false;
    }
    return true;
  };
  auto with_key = [&]() -> std::vector<std::pair<std::string, std::string>> {
    return {{"Idempotency-Key", opt(o, "idempotency-key", fresh_key())}};
  };

  if (cmd == "status") {
    print_status(c);
    return 0;
  }
  if (cmd == "cluster") return print_result(c.get("/v1/cluster"));
  if (cmd == "consumers") {
    if (pos.size() == 1) return print_result(c.get("/v1/events/consumers"));
    if (pos.size() == 3 && pos[1] == "forget")
      return print_result(c.request("DELETE", "/v1/events/consumers/" + pos[2]));
    fmt::print(stderr, "ordoctl: consumers [forget NAME] (see --help)\n");
    return 2;
  }
  if (cmd == "members" && need(1)) {
    std::string nodes;
    for (size_t i = 1; i < pos.size(); ++i) {
      auto eq = pos[i].find('='), colon = pos[i].rfind(':');
      if (eq == std::string::npos || colon == std::string::npos || colon < eq) {
        fmt::print(stderr, "ordoctl: members wants ID=HOST:PORT, not '{}'\n", pos[i]);
        return 2;
      }
      nodes += fmt::format(
          R"({}{{"id":{},"host":{},"port":{}}})", nodes.empty() ? "" : ",", pos[i].substr(0, eq),
          ordo::json::quote(pos[i].substr(eq + 1, colon - eq - 1)), pos[i].substr(colon + 1));
    }
    return print_result(c.post("/v1/cluster/members", fmt::format(R"({{"nodes":[{}]}})", nodes)));
  }
  if (cmd == "place") {
    std::string currency = opt(o, "currency", "EUR");
    std::string lines;
    for (const auto& l : o["line"]) {
      auto a = l.find(':'), b = l.rfind(':');
      if (a == std::string::npos || a == b) {
        fmt::print(stderr, "ordoctl: --line wants SKU:QTY:UNIT_MINOR, not '{}'\n", l);
        return 2;
      }
      lines += fmt::format("{}{{\"sku\":\"{}\",\"quantity\":\"{}\",\"unit_price\":{{\"amount_"
                           "minor\":\"{}\",\"currency\":\"{}\"}}}}",
                           lines.empty() ? "" : ",", l.substr(0, a), l.substr(a + 1, b - a - 1),
                           l.substr(b + 1), currency);
    }
    std::string merchant = opt(o, "merchant");
    auto body = fmt::format(
        "{{\"customer_id\":\"{}\",{}\"currency\":\"{}\",\"lines\":[{}],\"shipping_address\":{{"
        "\"name\":\"ordoctl\",\"line1\":\"1 Main St\",\"city\":\"Berlin\",\"postal_code\":"
        "\"10115\",\"country\":\"DE\"}}}}",
        opt(o, "customer"),
        merchant.empty() ? "" : fmt::format("\"merchant_id\":\"{}\",", merchant), currency, lines);
    return print_result(c.post("/v1/orders", body, with_key()));
  }
  if (cmd == "get" && need(1)) return print_result(c.get("/v1/orders/" + pos[1]));
  if (cmd == "cancel" && need(1))
    return print_result(c.post("/v1/orders/" + pos[1] + "/cancel",
                               fmt::format("{{\"reason\":\"{}\"}}", opt(o, "reason", "ordoctl")),
                               with_key()));
  if (cmd == "refund" && need(1))
    return print_result(c.post(
        "/v1/orders/" + pos[1] + "/refund",
        fmt::format(
            "{{\"amount\":{{\"amount_minor\":\"{}\",\"currency\":\"{}\"}},\"reason\":\"{}\"}}",
            opt(o, "amount", "0"), opt(o, "currency", "EUR"), opt(o, "reason", "ordoctl")),
        with_key()));
  if (cmd == "ship" && need(1))
    return print_result(c.post("/v1/orders/" + pos[1] + "/shipment",
                               fmt::format("{{\"carrier\":\"{}\",\"tracking_number\":\"{}\"}}",
                                           opt(o, "carrier"), opt(o, "tracking")),
                               with_key()));
  if (cmd == "deliver" && need(1))
    return print_result(c.post("/v1/orders/" + pos[1] + "/delivery", "{}", with_key()));
  if (cmd == "stock" && need(1)) return print_result(c.get("/v1/inventory/" + pos[1]));
  if (cmd == "restock" && need(2))
    return print_result(c.post("/v1/inventory/" + pos[1] + "/restock",
                               fmt::format("{{\"quantity\":\"{}\"}}", pos[2]), with_key()));
  if (cmd == "price" && need(2))
    return print_result(c.post(
        "/v1/inventory/" + pos[1] + "/price",
        fmt::format("{{\"price\":{{\"amount_minor\":\"{}\",\"currency\":\"{}\"}}}}", pos[2],
                    opt(o, "currency", "EUR")),
        with_key()));
  if (cmd == "owner" && need(2))
    return print_result(c.post("/v1/inventory/" + pos[1] + "/owner",
                               fmt::format("{{\"merchant_id\":\"{}\"}}", pos[2]), with_key()));
  if (cmd == "tail") {
    // One line per feed item ({"position":"7","event":{...}}); --follow long-polls for more.
    // As a named consumer (--consumer), the node keeps the offset: the first page resumes
    // where NAME left off (unless --after), each later request commits the page printed.
    uint64_t after = std::strtoull(opt(o, "after", "0").c_str(), nullptr, 10);
    bool follow = o.count("follow") > 0;
    std::string consumer = opt(o, "consumer");
    bool resume = !consumer.empty() && o.count("after") == 0;
    for (;;) {
      std::string from = resume ? "" : fmt::format("after={}&", after);
      if (!consumer.empty()) from += "consumer=" + consumer + "&";
      resume = false;
      auto r = c.get(fmt::format("/v1/events?{}limit=500&wait_ms={}", from, follow ? 10'000 : 0));
      if (r.status != 200) return print_result(r);
      ordo::v1::FeedPage page;
      if (auto e = ordo::json::parse(r.body, page); !e.empty()) {
        fmt::print(stderr, "ordoctl: unreadable feed page: {}\n", e);
        return 1;
      }
      for (const auto& item : page.events())
        fmt::print("{}\n", ordo::json::print(item));
      std::fflush(stdout);
      // The request that returned an empty page committed everything printed before it.
      if (page.events().empty() && !follow) return 0;
      after = page.next_after();
    }
  }
  if (cmd == "scenario" && need(1)) {
    auto rep = ordo::scenario::run_remote_file(pos[1], c);
    for (const auto& f : rep.failures)
      fmt::print("FAIL {}\n", f);
    fmt::print("scenario {}: {} steps, {} failed\n", pos[1], rep.steps_run, rep.failures.size());
    return rep.failures.empty() ? 0 : 1;
  }
  if (pos.size() >= 1 &&
      (cmd == "get" || cmd == "cancel" || cmd == "refund" || cmd == "ship" || cmd == "deliver" ||
       cmd == "stock" || cmd == "restock" || cmd == "price" || cmd == "owner" ||
       cmd == "scenario"))
    return 2;
  fmt::print(stderr, "ordoctl: unknown command '{}' (see --help)\n", cmd);
  return 2;
}
