#pragma once
// Settings of the order saga (see docs/saga.md), part of runtime_config, and its counters.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "ordo/payment_gateway.hpp"
#include "ordo/warehouse.hpp"
#include "ordo/v1/envelope.pb.h"

namespace ordo::saga {

struct saga_config {
  bool enabled = true; // off: nothing reacts to events (tests that play the services by hand)
  std::chrono::milliseconds payment_timeout{30'000}; // StockReserved → TimeOutPayment
  std::shared_ptr<payment_gateway> gateway;          // null: a simulated_gateway(simulated)
  simulated_gateway_options simulated;
  std::shared_ptr<saga::warehouse> warehouse; // null: a simulated_warehouse(warehouse_latency)
  std::chrono::milliseconds warehouse_latency{0}; // the simulated one's time to ship, deliver
  // External fulfilment: the saga hands the order to fulfilment (StartFulfilment) and then
  // waits for MarkShipped / MarkDelivered from outside (the node's HTTP API) instead of
  // asking a warehouse (`warehouse` is not used).
  bool external_fulfilment = false;
  std::chrono::milliseconds gateway_call_timeout{5'000}; // then retry with the same key
  size_t events_in_flight_max = 4'096;                   // feed records read but not handled
  std::chrono::milliseconds offset_save_every{100};
  std::chrono::milliseconds timer_poll_every{50};
  // How often the saga also looks for stored timers that are past their wall-clock deadline
  // and have no steady deadline in memory (actors/runtime/timer_deadlines.hpp): a cancel that lost a
  // race, more timers than one adoption scan takes.
  std::chrono::milliseconds timer_wall_check_every{1'000};
  // Stored timers adopted per scan (at start, after an import); the rest fire by their wall
  // deadline, as with timer_wall_check_every.
  size_t timer_adopt_max = 1'000'000;
  int retries_max = 8;              // failed / timed-out effects, then log and hold the offset
  int overloaded_retries_max = 200; // `overloaded` is backpressure, not failure: more patience
  std::chrono::milliseconds backoff_base{5};
  std::chrono::milliseconds backoff_max{1'000};
  // An effect that used up its retries is parked: logged, counted in saga_stats().stuck, its
  // feed position held, and tried again at this pace for as long as the node runs (a gateway
  // back from a long outage gets its captures and refunds without a restart). 0: parked
  // effects wait for the next start.
  std::chrono::milliseconds parked_retry_every{30'000};
  // Start after this feed position instead of the saved offset (replay; tests).
  std::optional<uint64_t> start_after;
  // Hooks for tests only; production leaves them unset.
  struct testing_hooks {
    // Negative control: fire timers when the WALL clock passes their stored deadline (the
    // rule before steady-clock firing), so a clock-step test can show it catches it. The
    // node sets it from ORDO_TEST_WALL_CLOCK_TIMERS=1 (runtime.cpp).
    bool wall_clock_timers = false;
    // An event for which this returns true is held (never handled in this run), so a test
    // can stop the runtime with an order parked at an exact saga step.
    std::function<bool(const v1::Envelope&)> hold_event;
  } testing;
};

/// The saga's counters (runtime::saga_stats(); all zero when the saga is off).
struct saga_stats {
  uint64_t events = 0;   // order events handled (re-handled ones included)
  uint64_t commands = 0; // runtime commands submitted (retries included)
  uint64_t gateway_calls = 0;
  uint64_t retries = 0;
  uint64_t stuck = 0;      // effects parked now: retries used up, position held
  uint64_t recovered = 0;  // parked effects that completed later (parked_retry_every)
  uint64_t timeouts = 0;   // TimeOutPayment commands sent by the timer poller
  uint64_t unexpected = 0; // effects refused where the design expects no refusal
  uint64_t low_water = 0;  // every event at or before this position is fully handled
};

} // namespace ordo::saga
