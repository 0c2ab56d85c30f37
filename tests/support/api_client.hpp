#pragma once
// What the node and cluster tests say to a node over HTTP: placement bodies, an order's
// committed state, a raw socket for what http_client is too polite to send.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "messages/json/json.hpp"
#include "net/http_client.hpp"
#include "ordo/v1/order.pb.h"

namespace ordo::test {

struct order_line {
  std::string sku;
  int qty = 1;
  int64_t unit_minor = 1500;
};

/// A PlaceOrder JSON body in EUR with a fixed address; no merchant when `merchant` is empty.
inline std::string place_json(const std::string& customer, const std::vector<order_line>& lines,
                              const std::string& merchant = "") {
  std::string ls;
  for (const auto& l : lines)
    ls += fmt::format(
        R"({}{{"sku":"{}","quantity":"{}","unit_price":{{"amount_minor":"{}","currency":"EUR"}}}})",
        ls.empty() ? "" : ",", l.sku, l.qty, l.unit_minor);
  return fmt::format(
      R"({{"customer_id":"{}",{}"currency":"EUR","lines":[{}],"shipping_address":{{"name":"A","line1":"Main St 1","city":"Berlin","postal_code":"10115","country":"DE"}}}})",
      customer, merchant.empty() ? "" : fmt::format(R"("merchant_id":"{}",)", merchant), ls);
}

/// {"price":{"amount_minor":"N","currency":"EUR"}}: the body of POST /v1/inventory/SKU/price.
inline std::string price_json(int64_t unit_minor) {
  return fmt::format(R"({{"price":{{"amount_minor":"{}","currency":"EUR"}}}})", unit_minor);
}

/// Restocks `sku` by `qty` and sets its price of record (the tests' orders pay 1500).
inline void stock_sku(net::http_client& c, const std::string& sku, int64_t qty,
                      int64_t unit_minor = 1500) {
  auto r = c.post("/v1/inventory/" + sku + "/restock", fmt::format(R"({{"quantity":"{}"}})", qty),
                  {{"Idempotency-Key", fmt::format("stock-{}-{}", sku, qty)}});
  REQUIRE_MESSAGE(r.status == 200, r.body);
  r = c.post("/v1/inventory/" + sku + "/price", price_json(unit_minor),
             {{"Idempotency-Key", fmt::format("price-{}-{}", sku, unit_minor)}});
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

/// The order's committed state as the node serves it (empty unless 200; `status` gets the
/// HTTP status when given).
inline v1::OrderState order_state(net::http_client& c, const std::string& id,
                                  int* status = nullptr) {
  auto r = c.get("/v1/orders/" + id);
  if (status) *status = r.status;
  v1::OrderState s;
  if (r.status == 200) ordo::json::parse(r.body, s);
  return s;
}

/// A TCP connection to "ip:port" with a receive timeout, or -1.
inline int connect_to(const std::string& address, int recv_timeout_s = 5) {
  auto colon = address.rfind(':');
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &a.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{recv_timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

/// Sends `bytes` on a fresh connection (then half-closes it when `half_close`) and returns
/// the status of the first answer: 0 when the node closed without one, -1 when it could not
/// be reached. Bounded by the receive timeout.
inline int raw_status(const std::string& address, const std::string& bytes,
                      bool half_close = false, int recv_timeout_s = 5) {
  int fd = connect_to(address, recv_timeout_s);
  if (fd < 0) return -1;
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got.find("\r\n") != std::string::npos) break;
  }
  ::close(fd);
  if (got.rfind("HTTP/1.", 0) != 0 || got.size() < 12) return 0;
  return std::atoi(got.c_str() + 9);
}

} // namespace ordo::test
