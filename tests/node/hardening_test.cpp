// What an outsider found against a real node (docs/api.md, docs/node.md): input over a limit
// answered 500, SKUs any merchant could change, prices set by the client, unsigned payment
// webhooks, a data directory two processes could open, a fail-stopped node still "ready",
// and HTTP exhaustion. Each case is named after what it caught.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api_support.hpp"
#include "app/node/config.hpp"

using namespace ordo::test;
using ordo::net::http_client;

namespace {

const std::string pay_key = "payments-key-0123456789";
const std::string hashed_key = "hashed-key-0123456789"; // configured only as its SHA-256

std::string hardening_config() {
  return R"(
[saga]
gateway = "webhook"
fulfilment = "external"
[payments]
webhook_secret = ")" +
         webhook_secret + R"("
[http]
connections_per_client_max = 8
)" + keys_toml() +
         fmt::format(R"(
[[auth.keys]]
name = "provider"
key = "{}"
role = "payments"
[[auth.keys]]
name = "hashed-ops"
key_sha256 = "{}"
role = "operations"
)",
                     pay_key, ordo::node::sha256_hex(hashed_key));
}

struct started {
  node_process node;
  explicit started(const std::string& config, std::vector<std::string> extra = {})
      : node(fresh_dir("hardening"), config, std::move(extra)) {
    REQUIRE_MESSAGE(node.start(), node.why());
  }
};

// Every answer in [400, 500) and naming `mention` (a limit or field) in its body.
void check_4xx(const ordo::net::http_result& r, const std::string& what,
               const std::string& mention) {
  CAPTURE(what);
  CAPTURE(r.body);
  CHECK(r.status >= 400);
  CHECK(r.status < 500);
  CHECK(r.body.find(mention) != std::string::npos);
}

// Runs `cmd` (argv) to its end; returns its exit code, its stderr in `err`.
int run(const std::vector<std::string>& cmd, std::string& err, std::chrono::seconds limit) {
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 2);
    ::dup2(pipefd[1], 1);
    ::close(pipefd[0]);
    std::vector<char*> argv;
    for (auto& a : cmd)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  ::close(pipefd[1]);
  auto until = std::chrono::steady_clock::now() + limit;
  int status = -1;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ::close(pipefd[0]);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0)
    err.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

TEST_SUITE("node_hardening") {
  TEST_CASE("input over a limit is a 4xx naming the limit, never a 500") {
    started s{hardening_config()};
    http_client ops{s.node.url(), ops_key}, shop{s.node.url(), shop_key};
    const std::string long_key(300, 'k');
    // The outsider's case: a 300-character Idempotency-Key (was 500).
    check_4xx(ops.post("/v1/inventory/SKU-1/restock", R"({"quantity":"1"})", idem(long_key)),
              "long Idempotency-Key", "128");
    check_4xx(ops.post("/v1/orders", place_body("c-alice"), idem(long_key)),
              "long Idempotency-Key on a placement", "128");
    check_4xx(ops.post("/v1/inventory/SKU-1/restock", R"({"quantity":"1"})", idem("a b")),
              "Idempotency-Key with a space", "visible ASCII");
    // Path segments.
    const std::string long_sku(600, 'S');
    check_4xx(ops.get("/v1/inventory/" + long_sku), "long SKU in a GET", "1..64");
    check_4xx(ops.post("/v1/inventory/" + long_sku + "/restock", R"({"quantity":"1"})"),
              "long SKU in a POST", "1..64");
    check_4xx(shop.get("/v1/inventory/" + long_sku), "long SKU, merchant", "1..64");
    check_4xx(ops.get("/v1/inventory/bad%sku"), "SKU with a bad byte", "sku");
    check_4xx(ops.get("/v1/orders/" + std::string(600, '0')), "long order id", "order id");
    check_4xx(ops.post("/v1/orders/" + std::string(600, '0') + "/cancel", "{}"),
              "long order id in a command", "order id");
    // Query parameters.
    check_4xx(ops.get("/v1/events?limit=100000"), "limit over 1000", "1..1000");
    check_4xx(ops.get("/v1/events?after=99999999999999999999999"), "after beyond u64",
              "whole numbers");
    check_4xx(ops.get("/v1/events?consumer=" + std::string(65, 'c')), "long consumer name", "64");
    // Fields.
    check_4xx(ops.post("/v1/orders", place_body(std::string(65, 'c')), idem("f1")),
              "long customer_id", "customer_id");
    check_4xx(ops.post("/v1/admin/inventory-commands",
                       R"({"sku":")" + long_sku + R"(","restock":{"quantity":"1"}})"),
              "long SKU through the admin route", "1..64");
    check_4xx(ops.post("/v1/admin/order-commands",
                       R"({"order_id":")" + std::string(600, '0') + R"(","cancel_order":{}})"),
              "long order id through the admin route", "order");
    const auto webhook = R"({"order_id":"01JD0000000000000000000000","result":"authorized",)"
                         R"("payment_id":")" + std::string(300, 'p') + R"("})";
    check_4xx(ops.post("/v1/webhooks/payment", webhook, signed_webhook(webhook)),
              "long payment_id in a webhook", "payment_id");
    check_4xx(ops.request("DELETE", "/v1/events/consumers/" + std::string(300, 'c')),
              "long consumer name to delete", "consumer");
    check_4xx(ops.post("/v1/inventory/SKU-1/price", price_json(0)), "zero price",
              "1..1000000000");
    check_4xx(ops.post("/v1/inventory/SKU-1/restock", R"({"quantity":"2000000"})"),
              "restock over its limit", "1..1000000");
    // Heads and bodies.
    check_4xx(ops.post("/v1/orders", std::string(70'000, 'x'), idem("big")), "large body",
              "body");
    auto huge_key = http_client{s.node.url(), std::string(20'000, 'a')}.get("/v1/orders/x");
    check_4xx(huge_key, "huge API key header", "header");
    CHECK(ops.get("/healthz").status == 200); // and the node is still fine
  }

  TEST_CASE("a SKU belongs to its merchant: another merchant's SKU is not found") {
    started s{hardening_config()};
    http_client ops{s.node.url(), ops_key}, shop{s.node.url(), shop_key},
        other{s.node.url(), other_shop_key};
    REQUIRE(shop.post("/v1/inventory/SKU-S/restock", R"({"quantity":"5"})").status == 200);
    REQUIRE(shop.post("/v1/inventory/SKU-S/price", price_json(1500)).status == 200);
    CHECK(shop.get("/v1/inventory/SKU-S").status == 200);
    CHECK(ops.get("/v1/inventory/SKU-S").body.find(R"("merchant_id":"m-shop")") !=
          std::string::npos);
    // The outsider's case: another merchant adjusts, restocks, prices, reads: all 404.
    for (const auto& r :
         {other.get("/v1/inventory/SKU-S"),
          other.post("/v1/inventory/SKU-S/adjust", R"({"delta":"-5","reason":"theft"})"),
          other.post("/v1/inventory/SKU-S/restock", R"({"quantity":"1"})"),
          other.post("/v1/inventory/SKU-S/price", price_json(1))}) {
      CHECK(r.status == 404);
      CHECK(error_code(r) == "NOT_FOUND");
    }
    CHECK(ops.get("/v1/inventory/SKU-S").body.find(R"("on_hand":"5")") != std::string::npos);
    // Only operations assign owners; a SKU operations created is theirs.
    CHECK(shop.post("/v1/inventory/SKU-S/owner", R"({"merchant_id":"m-other"})").status == 403);
    REQUIRE(ops.post("/v1/inventory/SKU-S/owner", R"({"merchant_id":"m-other"})").status == 200);
    CHECK(other.get("/v1/inventory/SKU-S").status == 200);
    CHECK(shop.get("/v1/inventory/SKU-S").status == 404);
    REQUIRE(ops.post("/v1/inventory/SKU-H/restock", R"({"quantity":"5"})").status == 200);
    CHECK(shop.get("/v1/inventory/SKU-H").status == 404);
    CHECK(shop.post("/v1/inventory/SKU-H/restock", R"({"quantity":"1"})").status == 404);
    // Operations may create a SKU for a merchant.
    REQUIRE(ops.post("/v1/inventory/SKU-M/restock?merchant_id=m-shop", R"({"quantity":"1"})")
                .status == 200);
    CHECK(shop.get("/v1/inventory/SKU-M").status == 200);
  }

  TEST_CASE("an order at another price than the SKU's is rejected with PRICE_MISMATCH") {
    started s{hardening_config()};
    http_client ops{s.node.url(), ops_key}, alice{s.node.url(), alice_key};
    stock_sku(ops, "SKU-P", 20'000, 1500);
    // The outsider's case: 10,000 units at 0.01.
    auto body = place_json("c-alice", {{"SKU-P", 10'000, 1}}, "m-shop");
    auto r = alice.post("/v1/orders", body, idem("cheap"));
    REQUIRE_MESSAGE(r.status == 201, r.body);
    auto id = answer(r).order_id();
    REQUIRE(reaches(ops, id, ordo::v1::ORDER_STATUS_REJECTED));
    auto st = state(ops, id);
    CHECK(st.close_code() == ordo::v1::REJECTION_CODE_PRICE_MISMATCH);
    CHECK(st.close_reason() ==
          R"(reserve.unit_price: sku "SKU-P" sent 1 EUR, current price 1500 EUR)");
    CHECK(ops.get("/v1/inventory/SKU-P").body.find(R"("reserved_total")") == std::string::npos);
  }

  TEST_CASE("payment webhooks: a payments key, signed, fresh; keys may be stored hashed") {
    started s{hardening_config()};
    http_client ops{s.node.url(), ops_key}, pay{s.node.url(), pay_key},
        hashed{s.node.url(), hashed_key}, alice{s.node.url(), alice_key};
    CHECK(hashed.get("/v1/events?after=0").status == 200); // key_sha256 works
    stock_sku(ops, "SKU-1", 10);
    auto id = answer(alice.post("/v1/orders", place_body("c-alice"), idem("w"))).order_id();
    REQUIRE(reaches(ops, id, ordo::v1::ORDER_STATUS_STOCK_RESERVED));
    const auto body = R"({"order_id":")" + id + R"(","result":"authorized","payment_id":"p-1"})";
    // A payments key may post webhooks and nothing else.
    CHECK(pay.get("/v1/orders/" + id).status == 403);
    CHECK(pay.post("/v1/orders/" + id + "/cancel", "{}").status == 403);
    CHECK(pay.get("/v1/events?after=0").status == 403);
    // Unsigned, wrongly signed, stale: refused, and the order is untouched.
    auto unsigned_ = pay.post("/v1/webhooks/payment", body);
    CHECK(unsigned_.status == 401);
    CHECK(error_code(unsigned_) == "missing_signature");
    auto other_body = signed_webhook(body + " ");
    CHECK(error_code(pay.post("/v1/webhooks/payment", body, other_body)) == "invalid_signature");
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    auto stale = ordo::node::sign_webhook(webhook_secret, now - 400, body);
    CHECK(error_code(pay.post("/v1/webhooks/payment", body, {{"Ordo-Signature", stale}})) ==
          "stale_signature");
    auto wrong_secret = ordo::node::sign_webhook("not-the-secret", now, body);
    CHECK(error_code(pay.post("/v1/webhooks/payment", body, {{"Ordo-Signature", wrong_secret}})) ==
          "invalid_signature");
    CHECK(state(ops, id).status() == ordo::v1::ORDER_STATUS_STOCK_RESERVED);
    // Signed now: accepted.
    auto ok = pay.post("/v1/webhooks/payment", body, signed_webhook(body));
    REQUIRE_MESSAGE(ok.status == 200, ok.body);
    CHECK(reaches(ops, id, ordo::v1::ORDER_STATUS_FULFILLING));
  }

  // limits.saga_lag_max: a slow payment gateway holds the saga back; once it trails the feed
  // by more than the limit, new placements get 429 (other commands still pass).
  TEST_CASE("placements get 429 + Retry-After while the saga trails the feed beyond the limit") {
    for (const bool bounded : {true, false}) {
      CAPTURE(bounded);
      started s{keys_toml(),
                {"--saga.gateway_latency=3s",
                 bounded ? "--limits.saga_lag_max=2" : "--limits.saga_lag_max=0"}};
      http_client ops{s.node.url(), ops_key};
      stock_sku(ops, "SKU-L", 1000);
      int placed = 0;
      ordo::net::http_result refused;
      for (int i = 0; i < 20 && refused.status == 0; ++i) { // bounded: ~1 s
        auto r = ops.post("/v1/orders", place_json("c-1", {{"SKU-L", 1}}),
                          {{"Idempotency-Key", fmt::format("lag-{}", i)}});
        if (r.status == 201) ++placed;
        else refused = r;
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
      }
      CHECK(placed >= 1);
      if (bounded) {
        CHECK(refused.status == 429);
        CHECK(refused.body.find("limits.saga_lag_max = 2") != std::string::npos);
        CHECK(refused.header("retry-after") == "1");
        // Other commands still pass: only new orders add to the saga's work.
        CHECK(ops.post("/v1/inventory/SKU-L/restock", R"({"quantity":"1"})",
                       {{"Idempotency-Key", "lag-restock"}})
                  .status == 200);
      } else {
        CHECK(refused.status == 0); // negative control: no bound, every placement taken
        CHECK(placed == 20);
      }
    }
  }

  TEST_CASE("HTTP exhaustion: chunk extensions, connections per client, Host of a keyless node") {
    started s{hardening_config(), {"--http.header_max_bytes=2048", "--http.body_max_bytes=4096"}};
    // A chunk extension far over every limit: refused (413) or closed, not buffered forever.
    std::string ext(1 << 20, 'e');
    int st = raw_status(s.node.address(),
                        "POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                        "Content-Type: application/json\r\n\r\n1;" +
                            ext + "\r\nx\r\n0\r\n\r\n");
    CHECK((st == 413 || st == 0));
    // A trailer far over every limit, likewise.
    st = raw_status(s.node.address(),
                    "POST /v1/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                    "Content-Type: application/json\r\n\r\n1\r\nx\r\n0\r\nX-T: " +
                        ext + "\r\n\r\n");
    CHECK((st == 413 || st == 431 || st == 0));
    // Connections per client address: the 9th from 127.0.0.1 is refused with 503.
    std::vector<int> held;
    for (int i = 0; i < 8; ++i) {
      held.push_back(connect_to(s.node.address(), 2));
      REQUIRE(held.back() >= 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{200}); // accepted by now
    CHECK(raw_status(s.node.address(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == 503);
    for (int fd : held)
      ::close(fd);
    bool back = false; // the slots come back as the connections close
    for (int i = 0; i < 100 && !back; ++i) {
      back = raw_status(s.node.address(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == 200;
      if (!back) std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    CHECK(back);

    // A node without keys answers only loopback Host names (DNS rebinding).
    node_process open{fresh_dir("hardening-open"), ""};
    REQUIRE_MESSAGE(open.start(), open.why());
    auto get = [&](const std::string& host) {
      return raw_status(open.address(),
                        "GET /v1/events?after=0 HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    };
    CHECK(get("evil.example.com") == 403);
    CHECK(get("evil.example.com:8080") == 403);
    CHECK(get("localhost:8080") == 200);
    CHECK(get(open.address()) == 200);
    CHECK(get("[::1]:9") == 200);
  }

  TEST_CASE("a second process on the same data directory exits at once naming the holder") {
    auto dir = fresh_dir("hardening-lock");
    node_process first{dir, ""};
    REQUIRE_MESSAGE(first.start(), first.why());
    std::string err;
    int rc = run({ORDO_NODE_BIN, "--data", dir + "/data", "--listen", "127.0.0.1:0"}, err,
                 std::chrono::seconds{10});
    CAPTURE(err);
    CHECK(rc != 0);
    CHECK(rc != -1); // exited by itself, at once (not killed by the time limit)
    CHECK(err.find("locked") != std::string::npos);
    CHECK(err.find(fmt::format("process {}", first.pid())) != std::string::npos);
    // The holder keeps serving; after it stops, the directory opens again.
    http_client c{first.url(), ""};
    CHECK(c.get("/readyz").status == 200);
    CHECK(first.stop() == 0);
    node_process second{dir, ""};
    REQUIRE_MESSAGE(second.start(), second.why());
    CHECK(second.stop() == 0);
  }

  TEST_CASE("a fail-stopped node is not ready, says why, and exits for its supervisor") {
    if (::access("/usr/bin/strace", X_OK) != 0) {
      MESSAGE("SKIP: strace not found; install it (scripts/install-deps.sh) to run this test");
      return;
    }
    for (bool exits : {true, false}) {
      CAPTURE(exits);
      auto dir = fresh_dir("hardening-failstop");
      node_process node{dir,
                        "",
                        {"--node.fail_stop_drain=1s",
                         exits ? "--node.exit_on_fail_stop=true" : "--node.exit_on_fail_stop=false"}};
      // Every fdatasync from the 3rd on fails with EIO: a disk that stopped working.
      // LeakSanitizer cannot run under ptrace: off for this node in sanitizer builds.
      node.set_prefix({"/usr/bin/env", "ASAN_OPTIONS=detect_leaks=0", "/usr/bin/strace", "-f",
                       "-qq", "-o", "/dev/null", "-e",
                       "trace=fdatasync", "-e", "inject=fdatasync:error=EIO:when=3+"});
      REQUIRE_MESSAGE(node.start(), node.why());
      // The node is strace's child: if the test fails midway, killing strace would leave it
      // running, so it is killed here at the end whatever happens.
      pid_t node_pid = 0;
      std::ifstream{fmt::format("/proc/{}/task/{}/children", node.pid(), node.pid())} >> node_pid;
      REQUIRE(node_pid > 0);
      struct reaper {
        pid_t pid;
        ~reaper() { ::kill(pid, SIGKILL); }
      } reap{node_pid};
      http_client c{node.url(), ""};
      CHECK(c.get("/readyz").status == 200);
      int failed = 0;
      for (int i = 0; i < 10; ++i)
        if (c.post(fmt::format("/v1/inventory/SKU-{}/restock", i), R"({"quantity":"1"})").status >=
            500)
          ++failed;
      CHECK(failed > 0);
      auto ready = c.get("/readyz");
      CHECK(ready.status == 503);
      CHECK(error_code(ready) == "fail_stopped");
      CHECK(ready.body.find("io_error") != std::string::npos);
      CHECK(c.get("/healthz").status == 200); // alive: reads still served meanwhile
      CHECK(c.get("/metrics").body.find("ordo_journal_fail_stopped 1\n") != std::string::npos);
      if (exits) {
        // It exits by itself with code 3 after the drain (bounded wait: 15 s).
        int status = 0;
        pid_t got = 0;
        for (int i = 0; i < 1500 && got == 0; ++i) {
          got = ::waitpid(node.pid(), &status, WNOHANG);
          if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds{10});
        }
        REQUIRE(got == node.pid());
        // strace passes the node's exit code on.
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 3);
        node.forget();
        CHECK(node.log().find("event=journal_fail_stopped") != std::string::npos);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds{1500}); // past the drain
        CHECK(c.get("/readyz").status == 503);                       // still up, not ready
        // SIGTERM to the node itself (strace's child); strace exits with its exit code.
        ::kill(node_pid, SIGTERM);
        CHECK(node.stop(0) == 0);
      }
    }
  }
}
