#include "workload.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include <fmt/format.h>

#include "app/node/webhook_sign.hpp"

namespace ordo::loadgen {

namespace {

// A SKU always has the same price, as in a real catalogue: 1.00 .. 99.99.
uint64_t price_minor(unsigned sku) {
  return 100 + (uint64_t{sku} * 7919) % 9900;
}

template <typename... Args>
void append(std::string& out, fmt::format_string<Args...> f, Args&&... args) {
  fmt::format_to(std::back_inserter(out), f, std::forward<Args>(args)...);
}

bool is_id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
         c == '_';
}

} // namespace

workload::workload(const options& opts, unsigned thread_index)
    : opts_(opts), thread_index_(thread_index),
      rng_(opts.seed * 0x9E3779B97F4A7C15ull + thread_index),
      mix_(opts.mix.begin(), opts.mix.end()),
      ids_(std::max<size_t>(1, opts.remembered_ids_max / opts.threads)) {
  append(head_common_, "Host: {}:{}\r\n", opts.host, opts.port);
  if (!opts.api_key.empty()) append(head_common_, "Authorization: Bearer {}\r\n", opts.api_key);
}

op_kind workload::next_op() {
  auto op = static_cast<op_kind>(mix_(rng_));
  return ids_.empty() ? op_kind::place : op;
}

const std::string& workload::random_id() {
  return ids_.at(std::uniform_int_distribution<size_t>(0, ids_.size() - 1)(rng_));
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
  case op_kind::ship:
    append(body_, R"({{"carrier":"LG","tracking_number":"T{}-{}"}})", thread_index_, shipped_++);
    append(out, "POST /v1/orders/{}/shipment HTTP/1.1\r\n", random_id());
    break;
  case op_kind::pay: {
    const std::string& id = random_id();
    append(body_, R"({{"order_id":"{}","result":"authorized","payment_id":"p-{}"}})", id, id);
    out += "POST /v1/webhooks/payment HTTP/1.1\r\n";
    if (!opts_.webhook_secret.empty()) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      append(out, "Ordo-Signature: {}\r\n", node::sign_webhook(opts_.webhook_secret, now, body_));
    }
    break;
  }
  }
  append(out, "{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}", head_common_,
         body_.size(), body_);
}

void workload::build_place(std::string& out, std::string& idem_key) {
  auto draw = [this](unsigned n) {
    return std::uniform_int_distribution<unsigned>(0, n - 1)(rng_);
  };
  append(body_, R"({{"customer_id":"c-{}","merchant_id":"m-{}","currency":"EUR","lines":[)",
         draw(opts_.customers), draw(opts_.merchants));
  unsigned lines = 1 + draw(3);
  for (unsigned i = 0; i < lines; ++i) {
    unsigned sku = draw(opts_.skus);
    append(body_,
           R"({}{{"sku":"SKU-{:05}","quantity":"{}","unit_price":{{"amount_minor":"{}",)"
           R"("currency":"EUR"}}}})",
           i == 0 ? "" : ",", sku, 1 + draw(3), price_minor(sku));
  }
  body_ += R"(],"shipping_address":{"name":"A","line1":"Main St 1","city":"Berlin",)"
           R"("postal_code":"10115","country":"DE"}})";
  append(idem_key, "lg-{}-{}-{}", opts_.seed, thread_index_, placed_++);
  append(out,
         "POST /v1/orders HTTP/1.1\r\n{}Idempotency-Key: {}\r\nContent-Type: application/json\r\n"
         "Content-Length: {}\r\n\r\n{}",
         head_common_, idem_key, body_.size(), body_);
}

std::string_view find_order_id(std::string_view json) {
  constexpr std::string_view key = "\"order_id\"";
  size_t at = json.find(key);
  if (at == std::string_view::npos) return {};
  size_t i = at + key.size();
  auto skip_space = [&] {
    while (i < json.size() &&
           (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
      ++i;
  };
  skip_space();
  if (i >= json.size() || json[i] != ':') return {};
  ++i;
  skip_space();
  if (i >= json.size() || json[i] != '"') return {};
  size_t start = ++i;
  while (i < json.size() && is_id_char(json[i]) && i - start <= 128)
    ++i;
  // Only ids that are safe to put in a URL path unescaped.
  if (i >= json.size() || json[i] != '"' || i == start || i - start > 128) return {};
  return json.substr(start, i - start);
}

} // namespace ordo::loadgen
