#include "steps_flow.hpp"

#include <algorithm>
#include <iterator>

#include "json_scan.hpp"

namespace ordo::loadgen {

namespace {

constexpr op_kind steps[] = {op_kind::place, op_kind::reserve, op_kind::pay, op_kind::fulfil,
                             op_kind::ship};
constexpr size_t step_count = std::size(steps);

bool is_2xx(int status) {
  return status >= 200 && status < 300;
}

} // namespace

steps_flow::steps_flow(const options& opts, unsigned thread_index, unsigned connections,
                       const run_clock& timeline, flow_stats& out)
    : opts_(opts), thread_index_(thread_index), clock_(timeline), stats_(out),
      rng_(opts.seed * 0x9E3779B97F4A7C15ull + thread_index), conns_(connections),
      completed_(std::max<size_t>(1, opts.verify / opts.threads)), head_(common_head(opts)) {}

bool steps_flow::next(size_t conn, clock_type::time_point now, op_kind& op, std::string& out,
                      std::string& idem_key) {
  conn_state& c = conns_[conn];
  out.clear();
  idem_key.clear();
  body_.clear();
  target_.clear();
  op = steps[c.step];
  c.step_measured = now >= clock_.measure_start;
  if (op == op_kind::place) {
    build_place(c, out, idem_key);
    return true;
  }
  // Every step has its own key, as the saga's effects do: a retried step is a duplicate.
  std::string key =
      fmt::format("lg-{}-{}-{}-{}", opts_.seed, thread_index_, c.order_no, op_name(op));
  switch (op) {
  case op_kind::reserve:
  case op_kind::fulfil:
    append(body_, R"({{"order_id":"{}","{}":{{}}}})", c.order_id,
           op == op_kind::reserve ? "confirm_stock_reserved" : "start_fulfilment");
    append_post(out, "/v1/admin/order-commands", head_, key, body_);
    break;
  case op_kind::pay:
    // The node derives the webhook's key from the order and payment id; the amount is the
    // total, as a provider authorizes it (no amount would cost the node a read of the order).
    append(body_,
           R"({{"order_id":"{}","result":"authorized","payment_id":"p-{}",)"
           R"("amount":{{"amount_minor":"{}","currency":"EUR"}}}})",
           c.order_id, c.order_id, c.total_minor);
    append_post(out, "/v1/webhooks/payment", head_, {}, body_,
                webhook_signature_line(opts_, body_));
    break;
  case op_kind::ship:
    append(body_, R"({{"carrier":"LG","tracking_number":"T{}-{}"}})", thread_index_, c.order_no);
    append(target_, "/v1/orders/{}/shipment", c.order_id);
    append_post(out, target_, head_, key, body_);
    break;
  case op_kind::place:
  case op_kind::get:
    break;
  }
  return true;
}

void steps_flow::build_place(conn_state& c, std::string& out, std::string& idem_key) {
  auto draw = [this](unsigned n) {
    return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_);
  };
  order_line lines[100]; // options: --lines <= 100 (domain/limits.hpp: lines_max)
  const size_t count = draw_distinct_lines(rng_, opts_, lines);
  c.order_no = orders_++;
  c.order_id.clear();
  c.total_minor = total_minor(lines, count);
  c.started_measured = c.step_measured;
  if (c.started_measured) ++stats_.orders_started;
  append_place_body(body_, draw(opts_.customers), draw(opts_.merchants), lines, count);
  append(idem_key, "lg-{}-{}-{}", opts_.seed, thread_index_, c.order_no);
  append_post(out, "/v1/orders", head_, idem_key, body_);
}

void steps_flow::on_answer(size_t conn, op_kind op, int status, std::string_view body,
                           clock_type::time_point) {
  conn_state& c = conns_[conn];
  if (!is_2xx(status)) {
    std::string why = fmt::format("{} answered {}: {}", op_name(op), status, body.substr(0, 300));
    abandon(c, op, why);
    return;
  }
  if (op == op_kind::place) {
    std::string_view id = find_order_id(body);
    if (id.empty()) {
      abandon(
          c, op,
          fmt::format("place answered {} without an order_id: {}", status, body.substr(0, 300)));
      return;
    }
    c.order_id.assign(id.data(), id.size());
  }
  if (++c.step < step_count) return;
  if (c.step_measured) ++stats_.orders_completed;
  if (opts_.verify > 0) completed_.push(c.order_id);
  c.step = 0;
}

void steps_flow::on_lost(size_t conn, op_kind op, clock_type::time_point) {
  abandon(conns_[conn], op,
          fmt::format("{} got no answer (connection error or timeout)", op_name(op)));
}

void steps_flow::abandon(conn_state& c, op_kind, std::string_view why) {
  if (c.step_measured) {
    ++stats_.orders_abandoned;
    if (stats_.failure_sample.empty()) stats_.failure_sample = std::string(why);
  }
  c.step = 0;
}

std::vector<std::string> steps_flow::orders_to_verify() const {
  std::vector<std::string> ids;
  if (opts_.verify == 0) return ids;
  for (size_t i = 0; i < completed_.size(); ++i)
    ids.push_back(completed_.at(i));
  return ids;
}

} // namespace ordo::loadgen
