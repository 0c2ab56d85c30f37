// The etcd client against a real single-member etcd on loopback (tests/support/etcd_process.hpp).
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "coordination/etcd_client.hpp"
#include "coordination/etcd_errors.hpp"
#include "net/http_client.hpp"
#include "support/etcd_process.hpp"
#include "support/loopback_listener.hpp"

using namespace ordo::coordination;
using namespace std::chrono_literals;
using ordo::test::etcd_process;

namespace {

// One etcd for the whole binary (each case uses keys of its own); nullptr when etcd is absent.
etcd_process* shared_etcd() {
  static std::unique_ptr<etcd_process> etcd = [] {
    std::unique_ptr<etcd_process> e;
    if (etcd_process::binary().empty()) return e;
    e = std::make_unique<etcd_process>();
    if (!e->start()) FAIL(e->why());
    return e;
  }();
  return etcd.get();
}

bool skip_without_etcd() {
  if (shared_etcd() != nullptr) return false;
  MESSAGE("SKIP: no etcd binary (install etcd-server: scripts/install-deps.sh, or set "
          "ORDO_ETCD_BIN)");
  return true;
}

std::unique_ptr<etcd_client> client(std::vector<std::string> endpoints,
                                    std::chrono::milliseconds timeout = 2s) {
  auto c = etcd_client::open(etcd_options{std::move(endpoints), timeout});
  REQUIRE_MESSAGE(c, describe(c.error()));
  return std::move(*c);
}

std::unique_ptr<etcd_client> client() {
  return client({shared_etcd()->url()});
}

std::optional<etcd_errc> code_of(const caf::error& e) {
  return etcd_errc_of(e);
}

} // namespace

TEST_SUITE("etcd_client") {
  TEST_CASE("put, get and prefix ranges keep bytes and revisions") {
    if (skip_without_etcd()) return;
    auto c = client();
    const std::string binary_value{"\0\xff\x01 json \"quoted\"\n", 18};
    auto r1 = c->put("kv/a/1", binary_value);
    REQUIRE_MESSAGE(r1, describe(r1.error()));
    auto got = c->get("kv/a/1");
    REQUIRE(got);
    REQUIRE(got->kvs.size() == 1);
    CHECK(got->kvs[0].key == "kv/a/1");
    CHECK(got->kvs[0].value == binary_value);
    CHECK(got->kvs[0].mod_revision == *r1);
    CHECK(got->kvs[0].create_revision == *r1);
    CHECK(got->kvs[0].version == 1);
    auto r2 = c->put("kv/a/1", "second");
    REQUIRE(r2);
    CHECK(*r2 > *r1);
    got = c->get("kv/a/1");
    CHECK(got->kvs[0].version == 2);
    CHECK(got->kvs[0].mod_revision == *r2);
    CHECK(got->kvs[0].create_revision == *r1);
    REQUIRE(c->put("kv/a/2", "two"));
    REQUIRE(c->put("kv/b/1", "other prefix"));
    REQUIRE(c->put(std::string{"kv/a\xff", 5}, "past the prefix's last byte"));

    auto absent = c->get("kv/a/none");
    REQUIRE(absent);
    CHECK(absent->kvs.empty());
    auto prefix = c->get_prefix("kv/a/");
    REQUIRE(prefix);
    REQUIRE(prefix->kvs.size() == 2);
    CHECK(prefix->kvs[0].key == "kv/a/1");
    CHECK(prefix->kvs[1].key == "kv/a/2");
    CHECK(prefix->revision >= *r2);
    auto limited = c->get_prefix("kv/a/", 1);
    REQUIRE(limited);
    CHECK(limited->kvs.size() == 1);
    CHECK(limited->more);
    CHECK(limited->count == 2);

    auto gone = c->erase("kv/a/1");
    REQUIRE(gone);
    CHECK(*gone == 1);
    CHECK(c->get("kv/a/1")->kvs.empty());
    auto all = c->erase_prefix("kv/");
    REQUIRE(all);
    CHECK(*all == 3);
    CHECK(c->get_prefix("kv/")->kvs.empty());
    CHECK(code_of(c->put("", "x").error()) == etcd_errc::invalid_argument);
  }

  TEST_CASE("a compare-and-swap epoch advances once per revision; a stale revision fails") {
    if (skip_without_etcd()) return;
    auto c = client();
    const std::string key = "cas/group-1/epoch";
    // Create only if absent (version 0).
    auto created = c->txn({txn_compare::version_is(key, 0)}, {txn_op::put(key, "1")});
    REQUIRE_MESSAGE(created, describe(created.error()));
    CHECK(created->succeeded);
    auto again = c->txn({txn_compare::version_is(key, 0)}, {txn_op::put(key, "1")});
    REQUIRE(again);
    CHECK_FALSE(again->succeeded);

    const auto seen = c->get(key)->kvs.at(0).mod_revision;
    auto bumped = c->txn({txn_compare::mod_revision_is(key, seen)}, {txn_op::put(key, "2")},
                         {txn_op::get(key)});
    REQUIRE(bumped);
    CHECK(bumped->succeeded);
    CHECK(bumped->results.size() == 1);
    CHECK(bumped->results[0].what == txn_op::kind::put);

    auto stale = c->txn({txn_compare::mod_revision_is(key, seen)}, {txn_op::put(key, "3")},
                        {txn_op::get(key)});
    REQUIRE(stale);
    CHECK_FALSE(stale->succeeded);
    REQUIRE(stale->results.size() == 1);
    REQUIRE(stale->results[0].kvs.size() == 1);
    CHECK(stale->results[0].kvs[0].value == "2"); // the failure branch reads the winner
    CHECK(stale->results[0].kvs[0].mod_revision == bumped->revision);
    CHECK(c->get(key)->kvs.at(0).value == "2");

    auto by_value = c->txn({txn_compare::value_is(key, "2")}, {txn_op::put(key, "3")});
    REQUIRE(by_value);
    CHECK(by_value->succeeded);
    auto wrong_value = c->txn({txn_compare::value_is(key, "2")}, {txn_op::put(key, "4")});
    CHECK_FALSE(wrong_value->succeeded);

    // Eight clients race from the same revision: exactly one wins.
    const auto from = c->get(key)->kvs.at(0).mod_revision;
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> racers;
    for (int i = 0; i < 8; ++i)
      racers.emplace_back([&, i] {
        auto mine = client();
        auto r = mine->txn({txn_compare::mod_revision_is(key, from)},
                           {txn_op::put(key, fmt::format("racer {}", i))});
        (r && r->succeeded ? won : lost)++;
      });
    for (auto& t : racers)
      t.join();
    CHECK(won == 1);
    CHECK(lost == 7);
    CHECK(c->erase(key));
  }

  TEST_CASE("a key on a lease goes when the lease expires; keep-alives hold it") {
    if (skip_without_etcd()) return;
    auto c = client();
    auto lease = c->grant_lease(1);
    REQUIRE_MESSAGE(lease, describe(lease.error()));
    CHECK(lease->ttl_s == 1);
    REQUIRE(c->put("lease/leader", "node-1", lease->id));
    auto status = c->lease_time_to_live(lease->id, true);
    REQUIRE(status);
    CHECK(status->granted_ttl_s == 1);
    CHECK(status->keys == std::vector<std::string>{"lease/leader"});
    CHECK(c->get("lease/leader")->kvs.at(0).lease == lease->id);
    // etcd expires a lease within about half a second after its TTL: bounded wait of 5 s.
    const auto start = std::chrono::steady_clock::now();
    while (!c->get("lease/leader")->kvs.empty() && std::chrono::steady_clock::now() - start < 5s)
      std::this_thread::sleep_for(50ms);
    CHECK(c->get("lease/leader")->kvs.empty());
    CHECK(std::chrono::steady_clock::now() - start >= 500ms); // not gone at once
    CHECK(code_of(c->keep_alive_once(lease->id).error()) == etcd_errc::lease_not_found);
    CHECK(code_of(c->lease_time_to_live(lease->id).error()) == etcd_errc::lease_not_found);
    CHECK(code_of(c->put("lease/late", "x", lease->id).error()) == etcd_errc::lease_not_found);

    // Renewed every 300 ms, a 1 s lease outlives three of its TTLs.
    auto held = c->grant_lease(1);
    REQUIRE(held);
    REQUIRE(c->put("lease/held", "node-2", held->id));
    const auto hold_until = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < hold_until) {
      auto renewed = c->keep_alive_once(held->id);
      REQUIRE_MESSAGE(renewed, describe(renewed.error()));
      CHECK(renewed->ttl_s == 1);
      REQUIRE(c->get("lease/held")->kvs.size() == 1);
      std::this_thread::sleep_for(300ms);
    }
    CHECK(!c->revoke_lease(held->id));
    CHECK(c->get("lease/held")->kvs.empty()); // revoked: its key goes at once
    CHECK(code_of(c->revoke_lease(held->id)) == etcd_errc::lease_not_found);
    CHECK(code_of(c->grant_lease(0).error()) == etcd_errc::invalid_argument);
  }

  TEST_CASE("watch_prefix sees puts and deletes after a revision, and waits boundedly") {
    if (skip_without_etcd()) return;
    auto c = client();
    auto first = c->put("watch/a", "1");
    REQUIRE(first);
    REQUIRE(c->put("unwatched/x", "no"));
    REQUIRE(c->put("watch/b", "2"));
    // History from a past revision.
    auto batch = c->watch_prefix("watch/", *first, 2s);
    REQUIRE_MESSAGE(batch, describe(batch.error()));
    REQUIRE(batch->events.size() == 2);
    CHECK(batch->events[0].kv.key == "watch/a");
    CHECK(batch->events[1].kv.key == "watch/b");
    CHECK(batch->events[1].kv.value == "2");
    const auto next = batch->next_revision;
    CHECK(next == batch->events[1].kv.mod_revision + 1);

    // Nothing new: returns empty after about `wait`, resumable from the same revision.
    const auto t0 = std::chrono::steady_clock::now();
    auto quiet = c->watch_prefix("watch/", next, 300ms);
    const auto waited = std::chrono::steady_clock::now() - t0;
    REQUIRE(quiet);
    CHECK(quiet->events.empty());
    CHECK(quiet->next_revision == next);
    CHECK(waited >= 250ms);
    CHECK(waited < 2s);

    // A put and a delete while a poll waits (on another thread's client, the shared one is
    // not locked by the watch).
    std::thread writer([&] {
      std::this_thread::sleep_for(200ms);
      CHECK(c->put("watch/c", "3"));
    });
    auto live = c->watch_prefix("watch/", next, 5s);
    writer.join();
    REQUIRE(live);
    REQUIRE(live->events.size() == 1);
    CHECK(live->events[0].what == watch_event::type::put);
    CHECK(live->events[0].kv.key == "watch/c");
    REQUIRE(c->erase("watch/a"));
    auto deleted = c->watch_prefix("watch/", live->next_revision, 2s);
    REQUIRE(deleted);
    REQUIRE(deleted->events.size() == 1);
    CHECK(deleted->events[0].what == watch_event::type::erase);
    CHECK(deleted->events[0].kv.key == "watch/a");
  }

  TEST_CASE("watch_prefix below the compaction says compacted and where to start") {
    if (skip_without_etcd()) return;
    auto c = client();
    auto old = c->put("compact/a", "1");
    REQUIRE(old);
    auto newer = c->put("compact/a", "2");
    REQUIRE(newer);
    ordo::net::http_client raw{shared_etcd()->url()};
    auto r = raw.post("/v3/kv/compaction", fmt::format("{{\"revision\":\"{}\"}}", *newer));
    REQUIRE_MESSAGE(r.status == 200, r.body);
    auto batch = c->watch_prefix("compact/", *old, 2s);
    REQUIRE_FALSE(batch);
    CHECK(code_of(batch.error()) == etcd_errc::compacted);
    CHECK(compact_revision(batch.error()) == *newer);
  }

  TEST_CASE("a dead first endpoint fails over to the next; all dead is unreachable") {
    if (skip_without_etcd()) return;
    const auto dead = fmt::format("http://127.0.0.1:{}", ordo::test::unused_port());
    auto c = client({dead, shared_etcd()->url()});
    auto put = c->put("failover/k", "v");
    REQUIRE_MESSAGE(put, describe(put.error()));
    CHECK(c->get("failover/k")->kvs.at(0).value == "v");
    auto batch = c->watch_prefix("failover/", *put, 2s);
    REQUIRE_MESSAGE(batch, describe(batch.error()));
    CHECK(batch->events.size() == 1);
    CHECK(c->erase("failover/k"));

    auto none = client({dead, fmt::format("http://127.0.0.1:{}", ordo::test::unused_port())});
    auto err = none->get("failover/k");
    REQUIRE_FALSE(err);
    CHECK(code_of(err.error()) == etcd_errc::unreachable);
  }

  TEST_CASE("an endpoint that accepts but never answers times out; the next call moves on") {
    if (skip_without_etcd()) return;
    ordo::test::loopback_listener silent;
    REQUIRE(silent.port() != 0);
    auto c =
        client({fmt::format("http://127.0.0.1:{}", silent.port()), shared_etcd()->url()}, 300ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto first = c->put("timeout/k", "v");
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(first);
    CHECK(code_of(first.error()) == etcd_errc::timeout); // sent: not retried elsewhere
    CHECK(took >= 250ms);
    CHECK(took < 2s);
    auto second = c->put("timeout/k", "v");
    REQUIRE_MESSAGE(second, describe(second.error()));
    CHECK(c->erase("timeout/k"));
  }

  TEST_CASE("open refuses options it cannot use") {
    CHECK(code_of(etcd_client::open(etcd_options{}).error()) == etcd_errc::invalid_argument);
    CHECK(code_of(etcd_client::open(etcd_options{{"http://127.0.0.1:notaport"}}).error()) ==
          etcd_errc::invalid_argument);
    CHECK(code_of(etcd_client::open(etcd_options{{"https://127.0.0.1:2379"}}).error()) ==
          etcd_errc::invalid_argument);
    CHECK(code_of(etcd_client::open(etcd_options{{"http://127.0.0.1:2379"}, 0ms}).error()) ==
          etcd_errc::invalid_argument);
  }
}
