// ordoctl against a real node: its command table end to end (restock, price, place, get,
// cancel with a reason that needs JSON escaping, tail), and its exit codes — 0 on a 2xx
// answer, 1 on an error answer, 2 on usage errors, 3 when the node cannot be reached.

#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <string>

#include "api_support.hpp"
#include "support/fresh_dir.hpp"

using namespace ordo::test;

namespace {

struct ctl_result {
  int rc = -1;
  std::string out; // stdout and stderr
};

// Runs ordoctl with `args` (a shell word list) against `url` with the operations key.
ctl_result ordoctl(const std::string& url, const std::string& args) {
  const auto cmd = fmt::format("ORDO_NODE='{}' ORDO_API_KEY='{}' timeout 30 {} {} 2>&1", url,
                               ops_key, ORDO_CTL_BIN, args);
  ctl_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    r.out.append(buf, n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

} // namespace

TEST_SUITE("node_ctl") {
  TEST_CASE("ordoctl's commands reach the node and answer with its exit codes") {
    node_process node{fresh_dir("ctl"), "[saga]\nenabled = false\n" + keys_toml(), {}};
    REQUIRE_MESSAGE(node.start(), node.why());
    const auto url = node.url();

    auto r = ordoctl(url, "restock SKU-C 10");
    CHECK_MESSAGE(r.rc == 0, r.out);
    r = ordoctl(url, "price SKU-C 1500");
    CHECK_MESSAGE(r.rc == 0, r.out);
    r = ordoctl(url, "place --customer c-1 --line SKU-C:2:1500 --idempotency-key ctl-1");
    REQUIRE_MESSAGE(r.rc == 0, r.out);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex{"\"order_id\":\"([0-9A-Z]{26})\""}));
    const std::string id = m[1];
    // The same key again: the first answer, as a duplicate.
    r = ordoctl(url, "place --customer c-1 --line SKU-C:2:1500 --idempotency-key ctl-1");
    CHECK_MESSAGE(r.rc == 0, r.out);
    CHECK(r.out.find("\"duplicate\":true") != std::string::npos);
    CHECK(r.out.find(id) != std::string::npos);
    r = ordoctl(url, "get " + id);
    CHECK_MESSAGE(r.rc == 0, r.out);
    CHECK(r.out.find("\"total_minor\":\"3000\"") != std::string::npos);
    // A reason with a quote and a backslash: the body is built as JSON, not pasted together.
    r = ordoctl(url, "cancel " + id + R"( --reason 'said "no" \ twice')");
    CHECK_MESSAGE(r.rc == 0, r.out);
    r = ordoctl(url, "get " + id);
    CHECK(r.out.find("ORDER_STATUS_CANCELLED") != std::string::npos);
    CHECK(r.out.find(R"(said \"no\" \\ twice)") != std::string::npos);
    r = ordoctl(url, "tail --after 0");
    CHECK_MESSAGE(r.rc == 0, r.out);
    CHECK(r.out.find("order_placed") != std::string::npos);
    CHECK(r.out.find("order_cancelled") != std::string::npos);

    // Exit codes: an error answer 1, usage 2, unreachable 3, help 0.
    r = ordoctl(url, "refund " + id + " --amount 100");
    CHECK_MESSAGE(r.rc == 1, r.out); // a cancelled order has nothing to refund
    CHECK(r.out.find("HTTP 4") != std::string::npos);
    CHECK(ordoctl(url, "get").rc == 2);
    CHECK(ordoctl(url, "place --customer c-1").rc == 2);
    CHECK(ordoctl(url, "place --customer c-1 --line SKU-C:two:1500").rc == 2);
    CHECK(ordoctl(url, "").rc == 2);
    CHECK(ordoctl("http://127.0.0.1:1", "get " + id).rc == 3);
    r = ordoctl(url, "--help");
    CHECK(r.rc == 0);
    CHECK(r.out.find("restock") != std::string::npos);
  }
}
