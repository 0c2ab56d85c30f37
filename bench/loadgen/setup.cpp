#include "setup.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "json_scan.hpp"
#include "requests.hpp"
#include "sync_client.hpp"

namespace ordo::loadgen {

namespace {

constexpr unsigned prepare_threads_max = 8;
constexpr int64_t restock_quantity_max = 1'000'000; // domain/limits.hpp
constexpr int attempts_max = 3;                     // per request, on a connection failure

std::chrono::milliseconds timeout_of(const options& opts) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(opts.timeout);
}

// One call, retried on a connection failure (the requests here are reads or carry keys).
bool call(sync_client& client, const std::string& request, int& status, std::string& body,
          std::string& error) {
  for (int attempt = 1;; ++attempt) {
    if (client.call(request, status, body, error)) return true;
    if (attempt == attempts_max) return false;
  }
}

// Price and stock for one SKU; false with `error`.
// `run` makes the keys unique per run: a seed given again must not turn a restock into a
// duplicate that adds nothing.
bool prepare_one(const options& opts, sync_client& client, const std::string& head, uint64_t run,
                 unsigned sku, prepare_result& out, std::string& error) {
  const std::string name = fmt::format("SKU-{:05}", sku);
  std::string request, body, payload;
  int status = 0;
  append_get(request, fmt::format("/v1/inventory/{}", name), head);
  if (!call(client, request, status, body, error)) return false;
  if (status != 200 && status != 404) {
    error = fmt::format("GET /v1/inventory/{} answered {}: {}", name, status, body);
    return false;
  }
  int64_t on_hand = 0, reserved = 0, price = 0; // proto3 JSON leaves zeros out
  if (status == 200) {
    json_int(body, "on_hand", on_hand);
    json_int(body, "reserved_total", reserved);
    json_int(body, "amount_minor", price); // the only Money in InventoryState
  }
  const bool price_ok = status == 200 && price == static_cast<int64_t>(price_minor(sku)) &&
                        json_string(body, "currency") == "EUR";
  auto post = [&](std::string_view action, std::string_view key) {
    request.clear();
    append_post(request, fmt::format("/v1/inventory/{}/{}", name, action), head, key, payload);
    if (!call(client, request, status, body, error)) return false;
    if (status / 100 == 2) return true;
    error = fmt::format("POST /v1/inventory/{}/{} answered {}: {}", name, action, status, body);
    return false;
  };
  if (!price_ok) {
    payload =
        fmt::format(R"({{"price":{{"amount_minor":"{}","currency":"EUR"}}}})", price_minor(sku));
    if (!post("price", fmt::format("lg-{}-{}-price-{}", opts.seed, run, name))) return false;
    ++out.priced;
  }
  int64_t missing = static_cast<int64_t>(opts.stock) - (on_hand - reserved);
  if (missing > 0) ++out.restocked;
  for (int part = 0; missing > 0; ++part) {
    int64_t q = std::min(missing, restock_quantity_max);
    payload = fmt::format(R"({{"quantity":"{}"}})", q);
    if (!post("restock", fmt::format("lg-{}-{}-restock-{}-{}", opts.seed, run, name, part)))
      return false;
    out.units += static_cast<uint64_t>(q);
    missing -= q;
  }
  ++out.skus;
  return true;
}

} // namespace

bool prepare_skus(const options& opts, const endpoint& node, prepare_result& out,
                  std::string& error) {
  const std::string head = common_head(opts);
  const auto run = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  std::atomic<unsigned> next_sku{0};
  std::atomic<bool> failed{false};
  std::mutex mu; // guards out and error
  auto work = [&] {
    sync_client client(node, timeout_of(opts));
    prepare_result mine;
    std::string why;
    for (unsigned sku = next_sku++; sku < opts.skus && !failed; sku = next_sku++) {
      if (prepare_one(opts, client, head, run, sku, mine, why)) continue;
      std::lock_guard<std::mutex> lock(mu);
      if (!failed.exchange(true)) error = why;
    }
    std::lock_guard<std::mutex> lock(mu);
    out.skus += mine.skus;
    out.priced += mine.priced;
    out.restocked += mine.restocked;
    out.units += mine.units;
  };
  std::vector<std::thread> threads;
  unsigned n = std::min({prepare_threads_max, opts.skus, opts.connections});
  for (unsigned t = 0; t < n; ++t)
    threads.emplace_back(work);
  for (std::thread& t : threads)
    t.join();
  return !failed;
}

void verify_orders(const options& opts, const endpoint& node, const std::vector<std::string>& ids,
                   std::string_view status, flow_stats& out) {
  const std::string head = common_head(opts);
  sync_client client(node, timeout_of(opts));
  std::string request, body, error;
  for (const std::string& id : ids) {
    request.clear();
    append_get(request, fmt::format("/v1/orders/{}", id), head);
    int code = 0;
    ++out.verify_checked;
    bool read = call(client, request, code, body, error);
    std::string_view seen = read && code == 200 ? json_string(body, "status") : std::string_view{};
    if (seen == status) {
      ++out.verify_ok;
    } else if (out.verify_sample.empty()) {
      out.verify_sample = read ? fmt::format("order {}: {} {}", id, code, body.substr(0, 300))
                               : fmt::format("order {}: {}", id, error);
    }
  }
}

} // namespace ordo::loadgen
