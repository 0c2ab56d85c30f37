#include "saga_flow.hpp"

#include <algorithm>
#include <iterator>

#include "json_scan.hpp"

namespace ordo::loadgen {

namespace {

// Orders the heap so its front is the earliest poll (the standard heap is a max-heap).
struct later {
  template <typename T>
  bool operator()(const T& a, const T& b) const {
    return a.poll_at > b.poll_at;
  }
};

constexpr std::string_view status_prefix = "ORDER_STATUS_";

} // namespace

saga_flow::saga_flow(const options& opts, unsigned thread_index, unsigned connections,
                     const run_clock& timeline, flow_stats& out)
    : opts_(opts), thread_index_(thread_index), clock_(timeline), stats_(out),
      rng_(opts.seed * 0x9E3779B97F4A7C15ull + thread_index), conns_(connections),
      // Earlier threads take the remainder, as connections are split.
      cap_(std::max<size_t>(1, opts.inflight_orders / opts.threads +
                                   (thread_index < opts.inflight_orders % opts.threads ? 1 : 0))),
      head_(common_head(opts)) {
  waiting_.reserve(cap_);
}

bool saga_flow::next(size_t conn, clock_type::time_point now, op_kind& op, std::string& out,
                     std::string& idem_key) {
  conn_state& c = conns_[conn];
  out.clear();
  idem_key.clear();
  if (!waiting_.empty() && waiting_.front().poll_at <= now) {
    std::pop_heap(waiting_.begin(), waiting_.end(), later{});
    c.what = conn_state::doing::polling;
    c.order = std::move(waiting_.back());
    waiting_.pop_back();
    op = op_kind::get;
    target_.clear();
    append(target_, "/v1/orders/{}", c.order.id);
    append_get(out, target_, head_);
    return true;
  }
  if (now >= clock_.end || open_ >= cap_) return false; // backpressure: wait for room
  ++open_;
  stats_.inflight_max = std::max<uint64_t>(stats_.inflight_max, open_);
  c.what = conn_state::doing::placing;
  c.measured = now >= clock_.measure_start;
  op = op_kind::place;
  build_place(out, idem_key);
  return true;
}

void saga_flow::build_place(std::string& out, std::string& idem_key) {
  auto draw = [this](unsigned n) {
    return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_);
  };
  order_line lines[100]; // options: --lines <= 100 (domain/limits.hpp: lines_max)
  const size_t count = draw_distinct_lines(rng_, opts_, lines);
  body_.clear();
  append_place_body(body_, draw(opts_.customers), draw(opts_.merchants), lines, count);
  append(idem_key, "lg-{}-{}-{}", opts_.seed, thread_index_, placed_++);
  append_post(out, "/v1/orders", head_, idem_key, body_);
}

clock_type::duration saga_flow::first_poll_delay() const {
  // A little before the typical delivery, so most orders are seen delivered at the first GET
  // and few need a second; never more often than --poll-every.
  auto typical = std::chrono::duration<double, std::milli>(0.9 * to_delivered_avg_ms_);
  auto d = std::chrono::duration_cast<clock_type::duration>(typical);
  return std::clamp<clock_type::duration>(d, opts_.poll_every, std::chrono::seconds(30));
}

void saga_flow::schedule(open_order order) {
  waiting_.push_back(std::move(order));
  std::push_heap(waiting_.begin(), waiting_.end(), later{});
}

void saga_flow::on_answer(size_t conn, op_kind op, int status, std::string_view body,
                          clock_type::time_point now) {
  conn_state& c = conns_[conn];
  const bool ok = status >= 200 && status < 300;
  if (op == op_kind::place) {
    c.what = conn_state::doing::nothing;
    std::string_view id = ok ? find_order_id(body) : std::string_view{};
    if (id.empty()) {
      --open_;
      if (c.measured && stats_.failure_sample.empty())
        stats_.failure_sample = fmt::format("place answered {}: {}", status, body.substr(0, 300));
      return;
    }
    if (c.measured) ++stats_.orders_placed;
    schedule({now + first_poll_delay(), std::string(id), c.measured});
    return;
  }
  open_order order = std::move(c.order);
  c.what = conn_state::doing::nothing;
  if (order.measured) ++stats_.polls;
  std::string_view st = status == 200 ? json_string(body, "status") : std::string_view{};
  if (st.substr(0, status_prefix.size()) == status_prefix) st.remove_prefix(status_prefix.size());
  if (st == "DELIVERED" || st == "REJECTED" || st == "CANCELLED" || st == "REFUNDED") {
    closed(order, st, body);
    return;
  }
  // Not finished yet, or the read failed (429, a timeout): read it again later.
  order.poll_at = now + opts_.poll_every;
  schedule(std::move(order));
}

void saga_flow::closed(const open_order& order, std::string_view status, std::string_view body) {
  --open_;
  int64_t placed_ms = 0, updated_ms = 0;
  bool times =
      json_int(body, "placed_at_ms", placed_ms) && json_int(body, "updated_at_ms", updated_ms);
  if (status == "DELIVERED" && times) // the average steers first polls; warmup included
    to_delivered_avg_ms_ =
        to_delivered_avg_ms_ == 0
            ? static_cast<double>(updated_ms - placed_ms)
            : 0.95 * to_delivered_avg_ms_ + 0.05 * static_cast<double>(updated_ms - placed_ms);
  if (!order.measured) return;
  if (times) stats_.first_placed_ms = std::min(stats_.first_placed_ms, placed_ms);
  if (status == "DELIVERED") {
    ++stats_.delivered;
    if (times) {
      stats_.to_delivered.record(
          static_cast<uint64_t>(std::max<int64_t>(0, updated_ms - placed_ms)) * 1'000'000);
      stats_.last_delivered_ms = std::max(stats_.last_delivered_ms, updated_ms);
    }
    return;
  }
  if (status == "REJECTED")
    ++stats_.rejected;
  else if (status == "CANCELLED")
    ++stats_.cancelled;
  else
    ++stats_.other_closed;
  if (stats_.failure_sample.empty())
    stats_.failure_sample =
        fmt::format("order {} ended {}: close_code {}, close_reason \"{}\"", order.id, status,
                    json_string(body, "close_code"), json_string(body, "close_reason"));
}

void saga_flow::on_lost(size_t conn, op_kind op, clock_type::time_point now) {
  conn_state& c = conns_[conn];
  c.what = conn_state::doing::nothing;
  if (op == op_kind::place) {
    // Placed or not, we cannot tell (the ack log says which answers arrived): not followed.
    --open_;
    return;
  }
  open_order order = std::move(c.order);
  order.poll_at = now + opts_.poll_every;
  schedule(std::move(order));
}

bool saga_flow::active(clock_type::time_point now) const {
  return now < clock_.end || (open_ > 0 && now < clock_.end + opts_.drain_timeout);
}

clock_type::time_point saga_flow::wake_at() const {
  return waiting_.empty() ? clock_type::time_point::max() : waiting_.front().poll_at;
}

void saga_flow::finish(clock_type::time_point) {
  for (const open_order& o : waiting_)
    if (o.measured) ++stats_.unfinished;
  for (const conn_state& c : conns_)
    if (c.what == conn_state::doing::polling && c.order.measured) ++stats_.unfinished;
}

} // namespace ordo::loadgen
