#include "workload.hpp"

#include <algorithm>
#include <utility>

#include "requests.hpp"

namespace ordo::loadgen {

workload::workload(const options& opts, unsigned thread_index, const run_clock& timeline)
    : opts_(opts), thread_index_(thread_index), clock_(timeline),
      rng_(opts.seed * 0x9E3779B97F4A7C15ull + thread_index),
      mix_(opts.mix.begin(), opts.mix.end()),
      ids_(std::max<size_t>(1, opts.remembered_ids_max / opts.threads)),
      head_common_(common_head(opts)) {}

op_kind workload::next_op() {
  auto op = static_cast<op_kind>(mix_(rng_));
  return ids_.empty() ? op_kind::place : op;
}

const std::string& workload::random_id() {
  return ids_.at(std::uniform_int_distribution<size_t>(0, ids_.size() - 1)(rng_));
}

bool workload::next(size_t, clock_type::time_point, op_kind& op, std::string& out,
                    std::string& idem_key) {
  op = next_op();
  build_request(op, out, idem_key);
  return true;
}

void workload::on_answer(size_t, op_kind op, int status, std::string_view body,
                         clock_type::time_point) {
  if (op == op_kind::place && status >= 200 && status < 300) remember(find_order_id(body));
}

void workload::build_request(op_kind op, std::string& out, std::string& idem_key) {
  out.clear();
  idem_key.clear();
  body_.clear();
  switch (op) {
  case op_kind::place:
    build_place(out, idem_key);
    return;
  case op_kind::get:
    append(out, "GET /v1/orders/{} HTTP/1.1\r\n{}\r\n", random_id(), head_common_);
    return;
  case op_kind::ship: {
    const std::string& id = random_id();
    append(body_, R"({{"carrier":"LG","tracking_number":"T{}-{}"}})", thread_index_, shipped_++);
    append_post(out, fmt::format("/v1/orders/{}/shipment", id), head_common_, {}, body_);
    return;
  }
  case op_kind::pay: {
    const std::string& id = random_id();
    append(body_, R"({{"order_id":"{}","result":"authorized","payment_id":"p-{}"}})", id, id);
    append_post(out, "/v1/webhooks/payment", head_common_, {}, body_,
                webhook_signature_line(opts_, body_));
    return;
  }
  case op_kind::reserve:
  case op_kind::fulfil:
    break; // not in the mix (parse_mix only knows the first mix_op_count ops)
  }
}

void workload::build_place(std::string& out, std::string& idem_key) {
  auto draw = [this](unsigned n) {
    return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_);
  };
  // Both draws as arguments of one call, as the mix always made them (C++ leaves the order of
  // argument evaluation to the compiler): the same seed gives the same orders as before.
  auto pair = [](unsigned a, unsigned b) { return std::pair<unsigned, unsigned>{a, b}; };
  auto [customer, merchant] = pair(draw(opts_.customers), draw(opts_.merchants));
  order_line lines[3];
  unsigned count = 1 + draw(3);
  for (unsigned i = 0; i < count; ++i) { // the draw order of the mix before flows existed
    lines[i].sku = draw(opts_.skus);
    lines[i].quantity = 1 + draw(3);
  }
  append_place_body(body_, customer, merchant, lines, count);
  append(idem_key, "lg-{}-{}-{}", opts_.seed, thread_index_, placed_++);
  append_post(out, "/v1/orders", head_common_, idem_key, body_);
}

} // namespace ordo::loadgen
