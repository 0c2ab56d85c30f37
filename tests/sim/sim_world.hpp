#pragma once
// One Ordo node under a seeded, deterministic simulation (FoundationDB-style): the real runtime,
// saga, entity actors and LMDB journal, with every actor job run by CAF's test_coordinator on
// the test's thread and every source of non-determinism drawn from one seed — which actor runs
// next, when a journal answer reaches its actor, when the warehouse reports, when virtual time moves (payment timeouts,
// retries, passivation, the saga's polls), what clients send, gateway outages and restarts.
// The same seed replays the same run; the trace it records says so (simulation_test.cpp).

#include <caf/scheduler/test_coordinator.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "actors/testing/simulated_gateway.hpp"
#include "ordo/runtime.hpp"
#include "ordo/warehouse.hpp"

namespace ordo::sim {

/// A client command and every answer its key received (the first and the retries).
struct command_record {
  bool to_order = true;
  v1::OrderCommand order;
  v1::InventoryCommand inventory;
  std::vector<outcome> answers;
  std::vector<int64_t> answered_ms; // virtual wall time of each answer
};

struct world_options {
  int client_commands = 60; // commands the clients send (retries included)
  int after_sales = 20;     // then refunds (and their retries), once orders were delivered
  int restarts_max = 2;     // graceful restarts at random moments
  std::vector<std::string> skus{"SKU-A", "SKU-B", "SKU-C"};
  std::chrono::milliseconds idempotency_retention{30'000};
};

/// A warehouse whose reports wait until the simulation gives them, in a seeded order.
class sim_warehouse final : public saga::warehouse {
public:
  void ship(const std::string& order_id, const std::string&,
            std::function<void(saga::shipment)> shipped) override {
    waiting.push_back([order_id, shipped = std::move(shipped)] {
      shipped(saga::shipment{"SIM", "T-" + order_id});
    });
  }
  void deliver(const std::string&, const std::string&, std::function<void()> delivered) override {
    waiting.push_back(std::move(delivered));
  }
  std::vector<std::function<void()>> waiting; // only the test's thread calls it
};

class world {
public:
  world(uint64_t seed, std::string data_dir, world_options o = {});
  ~world();
  world(const world&) = delete;
  world& operator=(const world&) = delete;

  /// Stocks every SKU (random quantity), then runs random steps until the clients sent all
  /// their commands; then lets the orders settle and runs the after-sales phase: refunds
  /// of delivered orders (whole or partial, with or without restock) among random steps.
  void run();
  /// Ends outages and lets virtual time pass until every order is settled (or `max_seconds` of
  /// virtual time passed). Returns whether all settled.
  bool settle(int max_seconds = 600);
  /// Stops the runtime and opens it again from the same directory (replay from disk).
  void restart();

  runtime& rt() { return *rt_; }
  const std::map<std::string, command_record>& history() const { return history_; }
  const std::vector<std::string>& orders() const { return orders_; }
  /// Units each SKU was restocked with: every restock applied, retries after retention too.
  const std::map<std::string, int64_t>& stocked() const { return stocked_; }
  /// What happened, step by step: equal for equal seeds.
  const std::string& trace() const { return trace_; }
  /// Steps taken, by kind (job, answer, warehouse, client, time, restart).
  const std::map<std::string, uint64_t>& steps() const { return steps_; }
  /// Orders not yet in a settled status (delivered, rejected, cancelled, refunded).
  std::vector<std::string> unsettled();

private:
  void open();
  void step();
  void run_random_job();
  void deliver_random_answer();
  void report_from_warehouse();
  void advance(std::chrono::milliseconds d);
  void client_command();
  void place_order();
  void send_to_random_order(const char* what);
  void run_steps(int commands);
  void retry_earlier_command();
  void submit(const std::string& key);
  void drain(); // runs every queued job and answer, FIFO, without moving time
  size_t pick(size_t n) { return static_cast<size_t>(rng_() % n); }
  int64_t wall_ms() const;

  uint64_t seed_;
  std::string dir_;
  world_options opt_;
  std::mt19937_64 rng_;
  std::shared_ptr<saga::simulated_gateway> gateway_;
  std::shared_ptr<sim_warehouse> warehouse_ = std::make_shared<sim_warehouse>();
  std::unique_ptr<runtime> rt_;
  caf::scheduler::test_coordinator* sched_ = nullptr;
  int64_t elapsed_ms_ = 0; // virtual time of the runs before the last restart
  std::mutex answers_mu_;  // the journal's writer thread queues, the test thread takes
  std::vector<std::function<void()>> answers_;
  std::map<std::string, command_record> history_;
  std::vector<std::string> keys_; // history_'s keys in the order they were first sent
  std::vector<std::string> orders_;
  std::map<std::string, int64_t> stocked_;
  int sent_ = 0, restarts_ = 0;
  bool after_sales_ = false; // clients send refunds (and retries) only
  std::string trace_;
  std::map<std::string, uint64_t> steps_;
};

} // namespace ordo::sim
