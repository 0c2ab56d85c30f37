#include "requests.hpp"

#include <algorithm>
#include <chrono>

#include "app/node/webhook_sign.hpp"

namespace ordo::loadgen {

std::string common_head(const options& opts) {
  std::string head;
  append(head, "Host: {}:{}\r\n", opts.host, opts.port);
  if (!opts.api_key.empty()) append(head, "Authorization: Bearer {}\r\n", opts.api_key);
  return head;
}

void append_post(std::string& out, std::string_view target, std::string_view head,
                 std::string_view idem_key, std::string_view body, std::string_view extra_head) {
  append(out, "POST {} HTTP/1.1\r\n{}{}", target, head, extra_head);
  if (!idem_key.empty()) append(out, "Idempotency-Key: {}\r\n", idem_key);
  append(out, "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}", body.size(), body);
}

void append_get(std::string& out, std::string_view target, std::string_view head) {
  append(out, "GET {} HTTP/1.1\r\n{}\r\n", target, head);
}

void append_place_body(std::string& body, unsigned customer, unsigned merchant,
                       const order_line* lines, size_t line_count) {
  append(body, R"({{"customer_id":"c-{}","merchant_id":"m-{}","currency":"EUR","lines":[)",
         customer, merchant);
  for (size_t i = 0; i < line_count; ++i)
    append(body,
           R"({}{{"sku":"SKU-{:05}","quantity":"{}","unit_price":{{"amount_minor":"{}",)"
           R"("currency":"EUR"}}}})",
           i == 0 ? "" : ",", lines[i].sku, lines[i].quantity, price_minor(lines[i].sku));
  body += R"(],"shipping_address":{"name":"A","line1":"Main St 1","city":"Berlin",)"
          R"("postal_code":"10115","country":"DE"}})";
}

uint64_t total_minor(const order_line* lines, size_t line_count) {
  uint64_t total = 0;
  for (size_t i = 0; i < line_count; ++i)
    total += price_minor(lines[i].sku) * lines[i].quantity;
  return total;
}

std::string webhook_signature_line(const options& opts, std::string_view body) {
  if (opts.webhook_secret.empty()) return {};
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return fmt::format("Ordo-Signature: {}\r\n", node::sign_webhook(opts.webhook_secret, now, body));
}

size_t draw_distinct_lines(std::mt19937_64& rng, const options& opts, order_line (&lines)[100]) {
  auto draw = [&rng](unsigned n) { return std::uniform_int_distribution<unsigned>(0, n - 1)(rng); };
  const size_t count = std::min<size_t>(opts.lines, std::size(lines));
  for (size_t i = 0; i < count; ++i) {
    unsigned sku = 0;
    do
      sku = draw(opts.skus);
    while (std::any_of(lines, lines + i, [sku](const order_line& l) { return l.sku == sku; }));
    lines[i] = {sku, 1 + draw(3)};
  }
  return count;
}

} // namespace ordo::loadgen
