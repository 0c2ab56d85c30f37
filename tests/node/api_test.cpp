// The HTTP/JSON API against a real ordo-node process over loopback: every endpoint, every
// error class, authentication and tenant isolation.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "api_support.hpp"
#include "app/scenario/remote.hpp"

using namespace ordo::test;
using ordo::net::http_client;

namespace {

// Payment by webhook and fulfilment from outside: the test plays both, step by step.
std::string api_config() {
  return R"(
[saga]
gateway = "webhook"
fulfilment = "external"
[payments]
webhook_secret = ")" + webhook_secret + R"("
[http]
body_max_bytes = 4096
header_max_bytes = 2048
idle_timeout = "1s"
connections_max = 64
)" + keys_toml();
}

struct started {
  node_process node;
  explicit started(const std::string& config, std::vector<std::string> extra = {})
      : node(fresh_dir("api"), config, std::move(extra)) {
    REQUIRE_MESSAGE(node.start(), node.why());
  }
};

// A raw socket to the node, for what http_client is too polite to send.
int raw_connect(const std::string& address) {
  int fd = connect_to(address);
  REQUIRE(fd >= 0);
  return fd;
}

// Reads until the peer closes or 5 s pass; returns what came.
std::string read_all(int fd) {
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

} // namespace

TEST_SUITE("node_api") {
  TEST_CASE("health, readiness and metrics need no key") {
    started s{api_config()};
    http_client c{s.node.url()};
    CHECK(c.get("/healthz").status == 200);
    CHECK(c.get("/readyz").status == 200);
    auto m = c.get("/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.header("content-type").find("text/plain") == 0);
    for (const char* name :
         {"ordo_http_requests_total", "ordo_http_request_duration_seconds",
          "ordo_journal_commit_seconds", "ordo_journal_batches_total", "ordo_actors_active",
          "ordo_commands_in_flight", "ordo_journal_queue_depth", "ordo_feed_consumer_lag"})
      CHECK_MESSAGE(m.body.find(name) != std::string::npos, name);
  }

  TEST_CASE("authentication: no key or an unknown key is 401") {
    started s{api_config()};
    http_client anon{s.node.url()}, wrong{s.node.url(), "not-a-configured-key-at-all"};
    auto r = anon.post("/v1/orders", place_body("c-alice"), idem("k1"));
    CHECK(r.status == 401);
    CHECK(error_code(r) == "unauthenticated");
    CHECK(wrong.get("/v1/orders/01JD0000000000000000000000").status == 401);
    // The key is never logged (names are).
    CHECK(s.node.log().find(alice_key) == std::string::npos);
  }

  TEST_CASE("bad input gets a precise 4xx and changes nothing") {
    started s{api_config()};
    http_client alice{s.node.url(), alice_key}, ops{s.node.url(), ops_key};
    auto r = alice.post("/v1/orders", place_body("c-alice"));
    CHECK(r.status == 400);
    CHECK(error_code(r) == "missing_idempotency_key");
    r = alice.post("/v1/orders", "{\"customer_id\": ", idem("k"));
    CHECK(r.status == 400);
    CHECK(error_code(r) == "malformed_json");
    r = alice.post("/v1/orders", R"({"customer_id":"c-alice","colour":"red"})", idem("k"));
    CHECK(r.status == 400);
    CHECK(r.body.find("colour") != std::string::npos); // names the unknown field
    r = alice.post("/v1/orders", R"({"customer_id":"c-alice","lines":"many"})", idem("k"));
    CHECK(r.status == 400); // wrong type
    r = alice.post("/v1/orders", place_body("c-alice", "SKU-1", 0), idem("k-zero"));
    CHECK(r.status == 400);
    CHECK(error_code(r) == "INVALID_ARGUMENT");
    CHECK(r.body.find("quantity") != std::string::npos);
    r = alice.post("/v1/orders", std::string(5000, ' '), idem("k-big"));
    CHECK(r.status == 413);
    r = alice.get("/v1/orders/not-an-id");
    CHECK(r.status == 400);
    CHECK(error_code(r) == "invalid_order_id");
    r = alice.get("/v1/orders/01JD0000000000000000000000");
    CHECK(r.status == 404);
    CHECK(alice.get("/v1/nothing").status == 404);
    CHECK(alice.get("/v2/orders").status == 404);
    r = alice.request("DELETE", "/v1/orders");
    CHECK(r.status == 405);
    CHECK(r.header("allow") == "POST");
    r = ops.get("/v1/events?after=x");
    CHECK(r.status == 400);
    // Nothing above reached the journal.
    auto feed = ops.get("/v1/events?after=0");
    REQUIRE(feed.status == 200);
    CHECK(feed.body.find("\"events\"") == std::string::npos); // an empty page

    // Raw protocol abuse: wrong content type, oversized head, garbage.
    int fd = raw_connect(s.node.address());
    std::string req = "POST /v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + alice_key +
                      "\r\nIdempotency-Key: raw\r\nContent-Type: text/plain\r\nContent-Length: "
                      "2\r\nConnection: close\r\n\r\n{}";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    CHECK(read_all(fd).find("415") != std::string::npos);
    ::close(fd);
    fd = raw_connect(s.node.address());
    req = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    CHECK(read_all(fd).find("431") != std::string::npos);
    ::close(fd);
    fd = raw_connect(s.node.address());
    req = "THIS IS NOT HTTP\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    CHECK(read_all(fd).find("400") != std::string::npos);
    ::close(fd);
    // The node is still fine.
    CHECK(ops.get("/healthz").status == 200);
  }

  TEST_CASE("slow and half-open connections are closed after the idle timeout") {
    started s{api_config()};
    int fd = raw_connect(s.node.address());
    std::string part = "GET /healthz HTTP/1.1\r\nHost: x\r\n"; // never finished
    ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
    auto t0 = std::chrono::steady_clock::now();
    read_all(fd); // returns when the node closes (idle_timeout = 1 s) or after 5 s
    auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(waited < std::chrono::milliseconds{4500});
    ::close(fd);
    http_client c{s.node.url()};
    CHECK(c.get("/healthz").status == 200);
  }

  TEST_CASE("connections beyond http.connections_max are refused, others keep working") {
    // A long idle timeout: no accepted connection may close (and free a slot) meanwhile.
    started s{api_config(), {"--http.idle_timeout=60s"}};
    std::vector<int> fds;
    for (int i = 0; i < 80; ++i)
      fds.push_back(raw_connect(s.node.address()));
    // The 65th and later are refused (closed, or a 503) by the node.
    int refused = 0;
    for (size_t i = 64; i < fds.size(); ++i) {
      auto got = read_all(fds[i]);
      if (got.empty() || got.find("503") != std::string::npos) ++refused;
    }
    CHECK(refused == 16);
    for (int fd : fds)
      ::close(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    http_client c{s.node.url()};
    CHECK(c.get("/healthz").status == 200);
  }

  TEST_CASE("placement: 201, then the same key answers the first answer; keys are per client") {
    started s{api_config()};
    http_client alice{s.node.url(), alice_key}, bob{s.node.url(), bob_key};
    auto r1 = alice.post("/v1/orders?include=events", place_body("c-alice"), idem("order-1"));
    REQUIRE(r1.status == 201);
    auto a1 = answer(r1);
    CHECK(a1.outcome() == "accepted");
    CHECK_FALSE(a1.duplicate());
    REQUIRE(a1.events_size() == 1); // asked for
    CHECK(a1.events(0).order_event().has_order_placed());
    auto r2 = alice.post("/v1/orders", place_body("c-alice"), idem("order-1"));
    REQUIRE(r2.status == 200);
    auto a2 = answer(r2);
    CHECK(a2.duplicate());
    CHECK(a2.order_id() == a1.order_id());
    CHECK(a2.events_size() == 0);                                           // not asked for
    auto r3 = bob.post("/v1/orders", place_body("c-bob"), idem("order-1")); // same key, bob
    REQUIRE(r3.status == 201);
    CHECK(answer(r3).order_id() != a1.order_id());
    auto r4 = bob.post("/v1/orders", place_body("c-alice"), idem("order-2"));
    CHECK(r4.status == 403); // bob may not place for alice
  }

  TEST_CASE("tenant isolation: customers see their own orders, merchants their items") {
    started s{api_config()};
    http_client alice{s.node.url(), alice_key}, bob{s.node.url(), bob_key},
        shop{s.node.url(), shop_key}, other{s.node.url(), other_shop_key},
        ops{s.node.url(), ops_key};
    stock_sku(ops, "SKU-1", 10);
    auto id = answer(alice.post("/v1/orders", place_body("c-alice"), idem("t1"))).order_id();
    REQUIRE_FALSE(id.empty());
    CHECK(alice.get("/v1/orders/" + id).status == 200);
    CHECK(shop.get("/v1/orders/" + id).status == 200);
    CHECK(ops.get("/v1/orders/" + id).status == 200);
    auto hidden = bob.get("/v1/orders/" + id);
    CHECK(hidden.status == 404); // exactly like an unknown order
    CHECK(error_code(hidden) == "NOT_FOUND");
    CHECK(other.get("/v1/orders/" + id).status == 404);
    CHECK(bob.post("/v1/orders/" + id + "/cancel", "{}").status == 404);
    CHECK(other.post("/v1/orders/" + id + "/shipment", R"({"carrier":"X"})").status == 404);
    CHECK(alice.post("/v1/orders/" + id + "/shipment", R"({"carrier":"X"})").status == 403);
    CHECK(shop.post("/v1/orders", place_body("c-alice"), idem("m")).status == 403);
    CHECK(alice.get("/v1/events?after=0").status == 403);
    CHECK(shop.get("/v1/events?after=0").status == 403);
    CHECK(alice.get("/v1/inventory/SKU-1").status == 403);
    CHECK(
        alice.post("/v1/webhooks/payment", R"({"order_id":")" + id + R"(","result":"authorized"})")
            .status == 403);
    CHECK(alice.post("/v1/admin/order-commands", "{}").status == 403);
    // Bob's cancel did nothing: alice's order is still live; alice's own cancel works.
    CHECK(state(ops, id).status() != ordo::v1::ORDER_STATUS_CANCELLED);
    auto cancel = alice.post("/v1/orders/" + id + "/cancel", R"({"reason":"changed my mind"})",
                             idem("cancel-1"));
    REQUIRE_MESSAGE(cancel.status == 200, cancel.body);
    CHECK(answer(cancel).order_id() == id);
    CHECK(reaches(ops, id, ordo::v1::ORDER_STATUS_CANCELLED));
    CHECK(state(ops, id).close_reason().find("changed my mind") != std::string::npos);
  }

  TEST_CASE("the whole lifecycle over HTTP: stock, webhook, shipment, delivery, refund") {
    started s{api_config()};
    http_client alice{s.node.url(), alice_key}, shop{s.node.url(), shop_key},
        ops{s.node.url(), ops_key};
    auto rs = shop.post("/v1/inventory/SKU-9/restock", R"({"quantity":"5"})", idem("r1"));
    REQUIRE(rs.status == 200);
    CHECK(answer(rs).sku() == "SKU-9");
    auto inv = shop.get("/v1/inventory/SKU-9");
    REQUIRE(inv.status == 200);
    CHECK(inv.body.find("\"on_hand\":\"5\"") != std::string::npos);
    CHECK(shop.get("/v1/inventory/NO-SUCH-SKU").status == 404);
    CHECK(shop.post("/v1/inventory/SKU-9/adjust", R"({"delta":"-10","reason":"count"})").status ==
          409); // below reserved/zero: refused by the domain
    auto adj = shop.post("/v1/inventory/SKU-9/adjust", R"({"delta":"2","reason":"found two"})");
    REQUIRE_MESSAGE(adj.status == 200, adj.body);
    CHECK(shop.get("/v1/inventory/SKU-9").body.find("\"on_hand\":\"7\"") != std::string::npos);
    REQUIRE(shop.post("/v1/inventory/SKU-9/price", price_json(1500)).status == 200);

    auto id = answer(alice.post("/v1/orders", place_body("c-alice", "SKU-9", 2), idem("life")))
                  .order_id();
    REQUIRE(reaches(ops, id, ordo::v1::ORDER_STATUS_STOCK_RESERVED));
    const auto authorized =
        R"({"order_id":")" + id + R"(","result":"authorized","payment_id":"pay-1"})";
    auto w = ops.post("/v1/webhooks/payment", authorized, signed_webhook(authorized));
    REQUIRE_MESSAGE(w.status == 200, w.body);
    // The provider re-sends its webhook: a duplicate, not an error.
    auto w2 = ops.post("/v1/webhooks/payment", authorized, signed_webhook(authorized));
    CHECK(w2.status == 200);
    CHECK(answer(w2).duplicate());
    REQUIRE(reaches(ops, id, ordo::v1::ORDER_STATUS_FULFILLING)); // the saga handed it over
    auto sh = shop.post("/v1/orders/" + id + "/shipment",
                        R"({"carrier":"DHL","tracking_number":"T-1"})", idem("ship"));
    REQUIRE_MESSAGE(sh.status == 200, sh.body);
    auto cancel = alice.post("/v1/orders/" + id + "/cancel", R"({"reason":"late"})");
    CHECK(cancel.status == 409);
    CHECK(error_code(cancel) == "TOO_LATE_TO_CANCEL");
    REQUIRE(shop.post("/v1/orders/" + id + "/delivery", "{}", idem("dlv")).status == 200);
    auto st = state(ops, id);
    CHECK(st.status() == ordo::v1::ORDER_STATUS_DELIVERED);
    CHECK(st.captured_minor() == 3000);
    auto over = shop.post("/v1/orders/" + id + "/refund",
                          R"({"amount":{"amount_minor":"9999","currency":"EUR"}})");
    CHECK(over.status == 409);
    CHECK(error_code(over) == "REFUND_EXCEEDS_CAPTURED");
    CHECK(alice
              .post("/v1/orders/" + id + "/refund",
                    R"({"amount":{"amount_minor":"100","currency":"EUR"}})")
              .status == 403);
    auto part = shop.post("/v1/orders/" + id + "/refund",
                          R"({"amount":{"amount_minor":"1000","currency":"EUR"},"reason":"dent"})",
                          idem("ref"));
    REQUIRE_MESSAGE(part.status == 200, part.body);
    CHECK(state(ops, id).refunded_minor() == 1000);

    // A declined payment cancels and releases the stock.
    auto id2 =
        answer(alice.post("/v1/orders", place_body("c-alice", "SKU-9", 1), idem("dec"))).order_id();
    REQUIRE(reaches(ops, id2, ordo::v1::ORDER_STATUS_STOCK_RESERVED));
    const auto declined = R"({"order_id":")" + id2 + R"(","result":"declined","reason":"card"})";
    REQUIRE(ops.post("/v1/webhooks/payment", declined, signed_webhook(declined)).status == 200);
    REQUIRE(reaches(ops, id2, ordo::v1::ORDER_STATUS_CANCELLED));
    const auto maybe = R"({"order_id":")" + id2 + R"(","result":"maybe"})";
    CHECK(ops.post("/v1/webhooks/payment", maybe, signed_webhook(maybe)).status == 400);

    // The feed carries all of it, in order, resumable from any offset.
    auto f = ops.get("/v1/events?after=0&limit=1000");
    REQUIRE(f.status == 200);
    ordo::v1::FeedPage page;
    REQUIRE(ordo::json::parse(f.body, page).empty());
    CHECK(page.events_size() > 10);
    uint64_t prev = 0;
    for (const auto& e : page.events()) {
      CHECK(e.position() > prev);
      prev = e.position();
    }
    CHECK(page.next_after() == prev);
    auto tail = ops.get(fmt::format("/v1/events?after={}&limit=1000", page.events(2).position()));
    ordo::v1::FeedPage rest;
    REQUIRE(ordo::json::parse(tail.body, rest).empty());
    // The saga may have appended more meanwhile: the tail starts right after item 3.
    REQUIRE(rest.events_size() >= page.events_size() - 3);
    CHECK(rest.events(0).position() == page.events(3).position());
  }

  TEST_CASE("GET /v1/events long-polls until something new or the wait ends") {
    started s{api_config()};
    http_client ops{s.node.url(), ops_key}, shop{s.node.url(), shop_key};
    REQUIRE(ops.post("/v1/inventory/SKU-2/restock", R"({"quantity":"1"})").status == 200);
    auto t0 = std::chrono::steady_clock::now();
    auto r = ops.get("/v1/events?after=1&wait_ms=300");
    CHECK(r.status == 200);
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds{250});
    // A write while a poll waits wakes it with the new event.
    std::thread writer([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
      http_client w{s.node.url(), ops_key};
      w.post("/v1/inventory/SKU-2/restock", R"({"quantity":"1"})");
    });
    auto r2 = ops.get("/v1/events?after=1&wait_ms=10000");
    writer.join();
    REQUIRE(r2.status == 200);
    CHECK(r2.body.find("\"position\":\"2\"") != std::string::npos);
  }

  // Named consumers: the node keeps each one's offset (?after= commits it), so a consumer
  // resumes without storing it; lag in /metrics; bounded; removable; kept across restarts
  // (saved at most once per http.feed_offset_save_every, the rest at a graceful stop).
  TEST_CASE("named feed consumers resume where they left off, across restarts") {
    started s{api_config(), {"--http.feed_consumers_max=2"}};
    http_client ops{s.node.url(), ops_key}, shop{s.node.url(), shop_key},
        alice{s.node.url(), alice_key};
    for (int i = 0; i < 3; ++i) // feed positions 1, 2, 3
      REQUIRE(ops.post("/v1/inventory/SKU-2/restock", R"({"quantity":"1"})").status == 200);
    auto page = [](http_client& c, const std::string& query) {
      auto r = c.get("/v1/events?" + query);
      REQUIRE_MESSAGE(r.status == 200, r.body);
      ordo::v1::FeedPage p;
      REQUIRE(ordo::json::parse(r.body, p).empty());
      return p;
    };
    auto first = page(ops, "consumer=mailer&limit=2"); // a new consumer starts at the beginning
    REQUIRE(first.events_size() == 2);
    CHECK(first.events(0).position() == 1);
    CHECK(first.next_after() == 2);
    auto second = page(ops, "consumer=mailer&after=2"); // commits 2, reads after it
    REQUIRE(second.events_size() == 1);
    CHECK(second.events(0).position() == 3);
    auto again = page(ops, "consumer=mailer"); // 3 is not committed: it comes again
    REQUIRE(again.events_size() == 1);
    CHECK(again.events(0).position() == 3);
    CHECK(ops.get("/metrics").body.find("ordo_feed_consumer_lag{consumer=\"mailer\"} 1\n") !=
          std::string::npos);
    auto listed = ops.get("/v1/events/consumers");
    REQUIRE(listed.status == 200);
    ordo::v1::FeedConsumers all;
    REQUIRE(ordo::json::parse(listed.body, all).empty());
    CHECK(all.head() == 3);
    REQUIRE(all.consumers_size() == 1);
    CHECK(all.consumers(0).name() == "mailer");
    CHECK(all.consumers(0).offset() == 2);
    CHECK(all.consumers(0).lag() == 1);

    // Bad names, commits beyond the head, one consumer too many, the wrong role.
    CHECK(error_code(ops.get("/v1/events?consumer=a*b")) == "INVALID_ARGUMENT");
    CHECK(error_code(ops.get("/v1/events?consumer=saga")) == "INVALID_ARGUMENT");
    CHECK(error_code(ops.get("/v1/events?consumer=mailer&after=99")) == "after_beyond_head");
    page(ops, "consumer=audit&after=1");
    auto third = ops.get("/v1/events?consumer=third");
    CHECK(third.status == 409);
    CHECK(error_code(third) == "too_many_consumers");
    CHECK(alice.get("/v1/events/consumers").status == 403);
    CHECK(alice.request("DELETE", "/v1/events/consumers/audit").status == 403);

    // Commit 3 (within save_every of the registration: saved by the graceful stop), restart.
    page(ops, "consumer=mailer&after=3");
    REQUIRE(s.node.stop() == 0);
    REQUIRE_MESSAGE(s.node.start(), s.node.why());
    http_client ops2{s.node.url(), ops_key};
    auto resumed = page(ops2, "consumer=mailer");
    CHECK(resumed.events_size() == 0);
    CHECK(resumed.next_after() == 3);
    auto gone = ops2.request("DELETE", "/v1/events/consumers/audit");
    REQUIRE_MESSAGE(gone.status == 200, gone.body);
    CHECK(gone.body.find("\"offset\":\"1\"") != std::string::npos);
    CHECK(error_code(ops2.request("DELETE", "/v1/events/consumers/audit")) == "unknown_consumer");
    CHECK(ops2.get("/v1/events/consumers").body.find("audit") == std::string::npos);
    page(ops2, "consumer=third"); // room again
  }

  // journal.feed_retention: old events go (after snapshots of their entities); the feed
  // below the low-water mark answers 410 truncated, the entities read as before.
  TEST_CASE("feed retention: GET /v1/events below the removed range is 410 truncated") {
    // Retention 2 s: the three restocks are all older than it in the same round. (With 1 ms a
    // round between two restocks passes a record while it is its SKU's last event, which is
    // never deleted, and later rounds start past it: fewer than 2 removed — seen under ASan.)
    started s{api_config(), {"--journal.feed_retention=2s", "--journal.retention_every=50ms"}};
    http_client ops{s.node.url(), ops_key}, shop{s.node.url(), shop_key};
    for (int i = 0; i < 3; ++i)
      REQUIRE(ops.post("/v1/inventory/SKU-2/restock", R"({"quantity":"1"})").status == 200);
    ordo::net::http_result r;
    for (int i = 0; i < 1000; ++i) { // bounded: 10 s
      r = ops.get("/v1/events?after=0");
      if (r.status != 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    CHECK(r.status == 410);
    CHECK(error_code(r) == "truncated");
    CHECK(ops.get("/v1/events?after=3").status == 200); // the low-water mark itself: fine
    auto sku = ops.get("/v1/inventory/SKU-2");
    REQUIRE(sku.status == 200);
    CHECK(sku.body.find(R"("on_hand":"3")") != std::string::npos);
    // Positions 1 and 2 go (3, the SKU's last event, stays): the metric follows the round.
    std::string truncated;
    for (int i = 0; i < 500; ++i) { // bounded: 5 s
      auto text = ops.get("/metrics").body;
      auto at = text.find("\nordo_feed_truncated_total ");
      truncated = at == std::string::npos ? "" : text.substr(at + 1, text.find('\n', at + 1) - at - 1);
      if (truncated == "ordo_feed_truncated_total 2") break;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    CHECK(truncated == "ordo_feed_truncated_total 2");
  }

  // With http.feed_offset_save_every = 0s every commit is durable before the answer: it
  // survives a SIGKILL.
  TEST_CASE("a consumer's committed offset survives a SIGKILL when saved on every read") {
    started s{api_config(), {"--http.feed_offset_save_every=0s"}};
    http_client ops{s.node.url(), ops_key}, shop{s.node.url(), shop_key};
    for (int i = 0; i < 3; ++i)
      REQUIRE(ops.post("/v1/inventory/SKU-2/restock", R"({"quantity":"1"})").status == 200);
    REQUIRE(ops.get("/v1/events?consumer=mailer&after=0").status == 200);
    REQUIRE(ops.get("/v1/events?consumer=mailer&after=2").status == 200);
    s.node.stop(SIGKILL);
    REQUIRE_MESSAGE(s.node.start(), s.node.why());
    http_client ops2{s.node.url(), ops_key};
    auto r = ops2.get("/v1/events?consumer=mailer");
    REQUIRE(r.status == 200);
    ordo::v1::FeedPage p;
    REQUIRE(ordo::json::parse(r.body, p).empty());
    REQUIRE(p.events_size() == 1);
    CHECK(p.events(0).position() == 3);
  }

  TEST_CASE("overload is 429 with Retry-After; every 2xx is there afterwards") {
    // One command in flight at a time: concurrent clients must be told to retry.
    started s{api_config(), {"--limits.in_flight_max=1"}};
    std::atomic<int> ok{0}, busy{0}, other{0};
    std::vector<std::string> ids[8];
    std::vector<std::thread> ts;
    for (int t = 0; t < 8; ++t)
      ts.emplace_back([&, t] {
        http_client c{s.node.url(), alice_key};
        for (int i = 0; i < 30; ++i) {
          auto r = c.post("/v1/orders", place_body("c-alice"), idem(fmt::format("ov-{}-{}", t, i)));
          if (r.status == 201) {
            ++ok;
            ids[t].push_back(answer(r).order_id());
          } else if (r.status == 429 && r.header("retry-after") == "1" &&
                     error_code(r) == "overloaded") {
            ++busy;
          } else {
            ++other;
          }
        }
      });
    for (auto& t : ts)
      t.join();
    CHECK(other == 0);
    CHECK(ok > 0);
    CHECK(busy > 0);
    MESSAGE(ok.load() << " placed, " << busy.load() << " told to retry later");
    http_client ops{s.node.url(), ops_key};
    for (auto& v : ids)
      for (auto& id : v)
        CHECK(state(ops, id).status() != ordo::v1::ORDER_STATUS_UNSPECIFIED);
  }

  TEST_CASE("test scripts inject any command through the operations endpoints") {
    started s{api_config()};
    http_client ops{s.node.url(), ops_key};
    auto r = ops.post("/v1/admin/inventory-commands",
                      R"({"sku":"SKU-7","restock":{"quantity":"3"}})", idem("inj"));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    CHECK(ops.post("/v1/admin/order-commands", R"({"order_id":"x","nonsense":{}})").status == 400);
  }
}

TEST_SUITE("node_api") {
  TEST_CASE("scenario files run against a node over HTTP (ordoctl scenario)") {
    // The scenarios play the services by hand: a node with the saga off.
    started s{keys_toml(), {"--saga.enabled=false"}};
    http_client ops{s.node.url(), ops_key};
    for (const char* f : {"bad_input", "cancellations", "happy_path"}) {
      auto rep = ordo::scenario::run_remote_file(
          fmt::format("{}/{}.scenario", ORDO_SCENARIOS_DIR, f), ops);
      CHECK_MESSAGE(rep.ok(),
                    std::string{f} << ": " << (rep.failures.empty() ? "" : rep.failures[0]));
      CHECK(rep.steps_run > 5);
    }
    // A restart cannot be done from outside: the step fails with a message saying so.
    auto rep = ordo::scenario::run_remote_file(
        fmt::format("{}/idempotency_and_restart.scenario", ORDO_SCENARIOS_DIR), ops);
    REQUIRE_FALSE(rep.ok());
    CHECK(rep.failures[0].find("cannot be done against a remote node") != std::string::npos);
  }
}
