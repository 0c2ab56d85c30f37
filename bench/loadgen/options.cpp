#include "options.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string_view>

#include <fmt/core.h>

#include "ordo/parse_number.hpp"

namespace ordo::loadgen {

namespace {

// "10s", "500ms", "250us", "2m", "1.5s"; a bare number is seconds.
bool parse_duration(std::string_view text, std::chrono::nanoseconds& out) {
  std::string s(text);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || errno != 0 || !std::isfinite(v) || v < 0) return false;
  std::string_view unit(end);
  double scale = 1e9;
  if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "m")
    scale = 60e9;
  else if (unit != "s" && !unit.empty())
    return false;
  double ns = v * scale;
  if (ns > 1e15) return false; // ~11 days: anything longer is a typo
  out = std::chrono::nanoseconds(static_cast<int64_t>(std::llround(ns)));
  return true;
}

// Whole numbers: include/ordo/parse_number.hpp (digits only, bounds checked).
template <typename T>
bool parse_uint(std::string_view text, uint64_t min, uint64_t max, T& out) {
  return parse_unsigned(text, out, min, max) == number_error::none;
}

// "place=70,get=20,ship=5,pay=5"; ops left out get weight 0.
bool parse_mix(std::string_view text, std::array<unsigned, op_count>& out) {
  std::array<unsigned, op_count> mix{};
  uint64_t sum = 0;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return false;
    std::string_view name = item.substr(0, eq);
    size_t i = 0;
    while (i < mix_op_count && name != op_name(static_cast<op_kind>(i)))
      ++i;
    if (i == mix_op_count || !parse_uint(item.substr(eq + 1), 0, 1'000'000, mix[i])) return false;
    sum += mix[i];
  }
  if (sum == 0) return false;
  out = mix;
  return true;
}

// Only plain http://host[:port][/] — the node serves no TLS and no path prefix.
bool parse_url(std::string_view url, options& out) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) return false;
  url.remove_prefix(scheme.size());
  if (!url.empty() && url.back() == '/') url.remove_suffix(1);
  if (url.empty() || url.find('/') != std::string_view::npos) return false;
  size_t colon = url.rfind(':');
  if (url.front() == '[') { // [::1]:8080
    size_t close = url.find(']');
    if (close == std::string_view::npos) return false;
    out.host = std::string(url.substr(1, close - 1));
    colon = close + 1 < url.size() && url[close + 1] == ':' ? close + 1 : std::string_view::npos;
  } else {
    out.host = std::string(url.substr(0, colon));
  }
  out.port = colon == std::string_view::npos ? "80" : std::string(url.substr(colon + 1));
  uint16_t port = 0;
  return !out.host.empty() && parse_uint(out.port, 1, 65535, port);
}

bool parse_flow(std::string_view text, flow_kind& out) {
  for (flow_kind f : {flow_kind::mix, flow_kind::steps, flow_kind::saga})
    if (text == flow_name(f)) {
      out = f;
      return true;
    }
  return false;
}

// Combinations that cannot mean anything; checked after every option is read.
bool check_combination(const options& out, std::string& error) {
  if (out.threads > out.connections) {
    error = "--threads must not exceed --connections";
    return false;
  }
  if (out.flow == flow_kind::mix) return true;
  if (out.open_loop())
    error = "--rate is for the mix: a flow is closed loop (each order's next step waits for "
            "the previous answer)";
  else if (out.mix_given)
    error = "--mix and --flow exclude each other";
  else if (out.lines > out.skus)
    error =
        fmt::format("--lines {} needs at least as many --skus (each line its own SKU)", out.lines);
  return error.empty();
}

// Sets the option `arg` from `value`: whether the value was valid, or nullopt for an unknown
// option.
std::optional<bool> set_option(std::string_view arg, std::string_view value, options& out) {
  bool ok = true;
  if (arg == "--url")
    ok = parse_url(value, out);
  else if (arg == "--connections")
    ok = parse_uint(value, 1, 100'000, out.connections);
  else if (arg == "--threads")
    ok = parse_uint(value, 1, 256, out.threads);
  else if (arg == "--duration")
    ok = parse_duration(value, out.duration) && out.duration.count() > 0;
  else if (arg == "--warmup")
    ok = parse_duration(value, out.warmup);
  else if (arg == "--timeout")
    ok = parse_duration(value, out.timeout) && out.timeout >= std::chrono::milliseconds(1);
  else if (arg == "--rate") {
    char* end = nullptr;
    std::string s(value);
    out.rate = std::strtod(s.c_str(), &end);
    ok = *end == '\0' && std::isfinite(out.rate) && out.rate >= 0 && out.rate <= 1e8;
  } else if (arg == "--mix") {
    ok = parse_mix(value, out.mix);
    out.mix_given = true;
  } else if (arg == "--flow")
    ok = parse_flow(value, out.flow);
  else if (arg == "--lines")
    ok = parse_uint(value, 1, 100, out.lines); // domain/limits.hpp: lines_max
  else if (arg == "--inflight-orders")
    ok = parse_uint(value, 1, 1'000'000, out.inflight_orders);
  else if (arg == "--poll-every")
    ok = parse_duration(value, out.poll_every) && out.poll_every >= std::chrono::milliseconds(1);
  else if (arg == "--drain-timeout")
    ok = parse_duration(value, out.drain_timeout);
  else if (arg == "--stock")
    ok = parse_uint(value, 1, 1'000'000'000, out.stock); // domain/limits.hpp: stock_max
  else if (arg == "--verify")
    ok = parse_uint(value, 0, 1'000'000, out.verify);
  else if (arg == "--key")
    out.api_key = std::string(value);
  else if (arg == "--webhook-secret")
    out.webhook_secret = std::string(value);
  else if (arg == "--skus")
    ok = parse_uint(value, 1, 100'000'000, out.skus);
  else if (arg == "--customers")
    ok = parse_uint(value, 1, 100'000'000, out.customers);
  else if (arg == "--merchants")
    ok = parse_uint(value, 1, 100'000'000, out.merchants);
  else if (arg == "--remember")
    ok = parse_uint(value, 1, 100'000'000, out.remembered_ids_max);
  else if (arg == "--ack-log")
    out.ack_log = std::string(value);
  else if (arg == "--seed")
    ok = parse_uint(value, 0, UINT64_MAX, out.seed);
  else
    return std::nullopt;
  return ok;
}

} // namespace

const char* flow_name(flow_kind f) {
  switch (f) {
  case flow_kind::mix:
    return "mix";
  case flow_kind::steps:
    return "steps";
  case flow_kind::saga:
    return "saga";
  }
  return "?";
}

bool parse_options(int argc, char** argv, options& out, std::string& error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_inline_value = false;
    if (size_t eq = arg.find('='); arg.substr(0, 2) == "--" && eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      continue;
    }
    if (!has_inline_value) {
      if (i + 1 >= argc) {
        error = fmt::format("{} needs a value", arg);
        return false;
      }
      value = argv[++i];
    }
    const std::optional<bool> set = set_option(arg, value, out);
    if (!set) {
      error = fmt::format("unknown option {} (see --help)", arg);
      return false;
    }
    const bool ok = *set;
    if (!ok) {
      error = fmt::format("bad value for {}: '{}' (see --help)", arg, value);
      return false;
    }
  }
  return check_combination(out, error);
}

const char* usage_text() {
  return R"(ordo-loadgen: HTTP load generator for ordo-node's API (docs/api.md).

usage: ordo-loadgen [options]

  --url URL          node address, http://host:port                 [http://127.0.0.1:8080]
  --connections N    keep-alive connections in total, at most one request in flight each [64]
  --threads N        event-loop threads, each with its own connections and stats  [1]
  --duration D       measured time (10s, 500ms, 2m; bare number = seconds)       [10s]
  --warmup D         time before measuring; its requests are run but not counted  [1s]
  --rate R           open loop: R requests/s in total at fixed intervals, latency
                     measured from each request's intended send time; without it,
                     closed loop: each connection sends when its previous answer arrives
  --timeout D        per-request (and per-connect) timeout; the connection is then
                     closed and reopened. In open loop a request that could not even
                     be sent within D of its intended time is counted as unsent [5s]
  --mix SPEC         op weights, e.g. place=70,get=20,ship=5,pay=5 (omitted ops = 0)
                       place: POST /v1/orders with a unique Idempotency-Key
                       get:   GET /v1/orders/{id} of a remembered order
                       ship:  POST /v1/orders/{id}/shipment
                       pay:   POST /v1/webhooks/payment (authorized)
                     until an order id is remembered, every op is a place
  --flow F           mix (the default), or drive each order through its life (closed
                     loop, one order at a time per connection; README.md, "Flows"):
                       steps: place, then one durable transition per request on a node
                              with the saga off (--saga.enabled=false): reserve
                              (ConfirmStockReserved via /v1/admin/order-commands), pay
                              (webhook), fulfil (StartFulfilment, admin), ship (shipment);
                              a non-2xx abandons the order
                       saga:  set the SKUs' prices and top up their stock, then place
                              orders on a node with the saga on and poll each one
                              (GET /v1/orders/{id}) until DELIVERED or closed
  --lines N          flows: lines per order, each a distinct SKU, quantity 1-3      [2]
  --inflight-orders N  saga: at most N placed orders not yet seen finished (all
                     threads); connections wait for room (backpressure)          [2000]
  --poll-every D     saga: an order's first GET comes after about the recent time to
                     delivered (at least D), then every D                       [250ms]
  --drain-timeout D  saga: after --duration, keep polling the orders still open for at
                     most D; those left are reported as unfinished               [60s]
  --stock N          saga: before the run, top up every SKU to N available units [100000]
  --verify N         steps: after the run, GET the newest N completed orders and check
                     they are SHIPPED                                             [100]
  --key KEY          send Authorization: Bearer KEY (the webhook, the steps flow's admin
                     commands and the saga flow's SKU setup need an operations key)
  --webhook-secret S sign each pay webhook (Ordo-Signature, HMAC-SHA256), as the node's
                     payments.webhook_secret requires
  --skus N           SKUs drawn from SKU-00000..N-1 (the saga flow prepares them all) [1000]
  --customers N      customers drawn from c-0..N-1                                [10000]
  --merchants N      merchants drawn from m-0..N-1                                   [10]
  --remember N       order ids remembered for get/ship/pay (newest N, all threads) [100000]
  --ack-log FILE     append "<order_id> <idempotency_key>" per 2xx placement (warmup
                     included); flushed every second and on exit
  --seed S           random seed and Idempotency-Key prefix (lg-S-...); default: from
                     the clock, printed. Reusing a seed against the same node replays
                     the same keys (the node then answers duplicates)
  --help             this text

Output: a progress line per second on stderr; a summary on stdout whose last line is one
JSON object with the figures.
)";
}

} // namespace ordo::loadgen
