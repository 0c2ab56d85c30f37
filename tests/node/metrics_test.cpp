// GET /metrics as a whole: a real node's body read by a strict exposition-format checker
// (exposition_check.hpp), every documented family with its type, and the checker itself
// shown to refuse each kind of broken line.
#include <string>
#include <utility>
#include <vector>

#include "api_support.hpp"
#include "exposition_check.hpp"

using namespace ordo::test;
using ordo::net::http_client;

namespace {

std::string problems_text(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems)
    out += p + "\n";
  return out;
}

// A few requests of several routes and status classes, so the HTTP series are not empty.
void some_traffic(http_client& anon, http_client& alice, http_client& ops) {
  REQUIRE(anon.get("/healthz").status == 200);
  CHECK(anon.post("/v1/orders", place_body("c-alice"), idem("m1")).status == 401);
  auto placed = alice.post("/v1/orders", place_body("c-alice"), idem("m1"));
  REQUIRE_MESSAGE(placed.status == 201, placed.body);
  CHECK(ops.get("/v1/no-such-route").status == 404);
  CHECK(ops.get("/v1/events?consumer=mailer&limit=1").status == 200);
  CHECK(ops.get("/v1/events?limit=0").status == 400);
}

// Every family docs/node.md lists for a node outside a cluster, with its type.
const std::vector<std::pair<std::string, std::string>> documented = {
    {"ordo_http_requests_total", "counter"},
    {"ordo_http_request_duration_seconds", "histogram"},
    {"ordo_http_connections_open", "gauge"},
    {"ordo_http_connections_refused_total", "counter"},
    {"ordo_commands_total", "counter"},
    {"ordo_commands_in_flight", "gauge"},
    {"ordo_actors_active", "gauge"},
    {"ordo_actor_lifecycle_total", "counter"},
    {"ordo_idempotency_expired_total", "counter"},
    {"ordo_feed_truncated_total", "counter"},
    {"ordo_feed_retention_snapshots_total", "counter"},
    {"ordo_journal_fail_stopped", "gauge"},
    {"ordo_journal_batches_total", "counter"},
    {"ordo_journal_batched_appends_total", "counter"},
    {"ordo_journal_queue_depth", "gauge"},
    {"ordo_journal_commit_seconds", "histogram"},
    {"ordo_feed_head", "gauge"},
    {"ordo_feed_consumer_lag", "gauge"},
    {"ordo_saga_total", "counter"},
    {"ordo_saga_parked_effects", "gauge"},
};

// A small valid exposition, and the same text broken one way at a time.
const std::string valid = R"(# HELP ok_total things
# TYPE ok_total counter
ok_total{route="a",note="q\"uo\\te\nnl"} 3
ok_total{route="b"} 0 1700000000000
# TYPE lat_seconds histogram
lat_seconds_bucket{route="a",le="0.5"} 1
lat_seconds_bucket{route="a",le="1"} 2
lat_seconds_bucket{route="a",le="+Inf"} 3
lat_seconds_sum{route="a"} 2.5e-1
lat_seconds_count{route="a"} 3
# TYPE up gauge
up -1.5
)";

struct breakage {
  const char* what;
  std::string from, to; // the first `from` in `valid` becomes `to`
};

const std::vector<breakage> breakages = {
    {"a sample without a TYPE line", "# TYPE up gauge\n", ""},
    {"TYPE after the samples", "# TYPE up gauge\nup -1.5\n", "up -1.5\n# TYPE up gauge\n"},
    {"a second TYPE", "# TYPE up gauge\n", "# TYPE up gauge\n# TYPE up gauge\n"},
    {"an unknown type", "up gauge", "up meter"},
    {"a metric name starting with a digit", "up -1.5", "1up -1.5"},
    {"a metric name with a dash", "up -1.5", "u-p -1.5"},
    {"a label name with a colon", "route=\"b\"", "ro:ute=\"b\""},
    {"an unescaped quote in a label value", "route=\"b\"", "route=\"b\"b\""},
    {"an unknown escape in a label value", "route=\"b\"", "route=\"b\\t\""},
    {"a label value not closed", "ok_total{route=\"b\"} 0", "ok_total{route=\"b} 0"},
    {"a value that is no float", "up -1.5", "up one"},
    {"junk after the value", "} 0 1700000000000", "} 0 soon"},
    {"a negative counter", "ok_total{route=\"b\"} 0", "ok_total{route=\"b\"} -1"},
    {"the same series twice", "ok_total{route=\"b\"} 0", "ok_total{route=\"a\",note=\"q\\\"uo\\\\te\\nnl\"} 0"},
    {"samples of a family split in two groups", "up -1.5\n", "up -1.5\nok_total{route=\"c\"} 1\n"},
    {"buckets out of le order", "le=\"0.5\"} 1", "le=\"2\"} 1"},
    {"no +Inf bucket", "lat_seconds_bucket{route=\"a\",le=\"+Inf\"} 3\n", ""},
    {"a decreasing bucket count", "le=\"1\"} 2", "le=\"1\"} 0"},
    {"_count unlike the +Inf bucket", "lat_seconds_count{route=\"a\"} 3", "lat_seconds_count{route=\"a\"} 4"},
    {"no _sum", "lat_seconds_sum{route=\"a\"} 2.5e-1\n", ""},
    {"a bucket without le", "lat_seconds_bucket{route=\"a\",le=\"0.5\"} 1", "lat_seconds_bucket{route=\"a\"} 1"},
    {"a bad escape in HELP", "# HELP ok_total things", "# HELP ok_total th\\ings"},
    {"no newline at the end", "up -1.5\n", "up -1.5"},
};

} // namespace

TEST_SUITE("node_metrics") {
  TEST_CASE("a node's whole /metrics body is valid exposition text") {
    node_process node{fresh_dir("metrics"), keys_toml()};
    REQUIRE_MESSAGE(node.start(), node.why());
    http_client anon{node.url()}, alice{node.url(), alice_key}, ops{node.url(), ops_key};
    some_traffic(anon, alice, ops);
    REQUIRE(anon.get("/metrics").status == 200); // the second scrape counts the first
    auto m = anon.get("/metrics");
    REQUIRE(m.status == 200);
    CHECK(m.header("content-type").find("text/plain; version=0.0.4") == 0);
    auto problems = exposition_problems(m.body);
    CHECK_MESSAGE(problems.empty(), problems_text(problems), "\nbody:\n", m.body);
    for (const auto& [name, type] : documented)
      CHECK_MESSAGE(m.body.find("\n# TYPE " + name + " " + type + "\n") != std::string::npos,
                    name);
    // The series the traffic touched, and none of a route it did not.
    for (const char* line :
         {"ordo_http_requests_total{route=\"place_order\",status=\"2xx\"} 1\n",
          "ordo_http_requests_total{route=\"other\",status=\"4xx\"} 2\n",
          "ordo_http_requests_total{route=\"events\",status=\"4xx\"} 1\n",
          "ordo_http_requests_total{route=\"metrics\",status=\"2xx\"} 1\n",
          "ordo_http_request_duration_seconds_count{route=\"place_order\"} 1\n",
          "ordo_http_request_duration_seconds_bucket{route=\"place_order\",le=\"+Inf\"} 1\n",
          "ordo_http_connections_refused_total 0\n", "ordo_journal_fail_stopped 0\n",
          "ordo_feed_consumer_lag{consumer=\"mailer\"} "})
      CHECK_MESSAGE(m.body.find(line) != std::string::npos, line);
    CHECK(m.body.find("route=\"refund_order\"") == std::string::npos);
  }

  TEST_CASE("the checker refuses each kind of broken exposition") {
    auto clean = exposition_problems(valid);
    REQUIRE_MESSAGE(clean.empty(), problems_text(clean));
    for (const auto& b : breakages) {
      auto at = valid.find(b.from);
      REQUIRE_MESSAGE(at != std::string::npos, b.what);
      auto broken = valid;
      broken.replace(at, b.from.size(), b.to);
      CHECK_MESSAGE(!exposition_problems(broken).empty(), b.what, ":\n", broken);
    }
  }
}
