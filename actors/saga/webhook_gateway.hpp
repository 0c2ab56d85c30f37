#pragma once
// A payment gateway whose authorizations are answered later, from outside: the saga's
// authorize call is accepted as `pending`, and the real answer arrives as a command on the
// order (ConfirmPaymentAuthorized / DeclinePayment) — the node's POST /v1/webhooks/payment.
// No answer in time: the order's durable payment timer cancels it, as for a gateway outage.
//
// Captures, voids and refunds are not answered by webhooks in this model; they are passed to
// `money_moves` (the node passes the simulated gateway of actors/testing/) — a host with a
// real provider plugs its own gateway in instead of this one.

#include <memory>

#include "ordo/payment_gateway.hpp"

namespace ordo::saga {

class webhook_gateway final : public payment_gateway {
public:
  explicit webhook_gateway(std::shared_ptr<payment_gateway> money_moves); // not null

  void authorize(const payment_request& r, payment_callback done) override;
  void capture(const payment_request& r, payment_callback done) override;
  void void_payment(const payment_request& r, payment_callback done) override;
  void refund(const payment_request& r, payment_callback done) override;

private:
  std::shared_ptr<payment_gateway> money_moves_;
};

} // namespace ordo::saga
