#include "actors/saga/webhook_gateway.hpp"

#include <utility>

#include "domain/assert.hpp"

namespace ordo::saga {

webhook_gateway::webhook_gateway(std::shared_ptr<payment_gateway> money_moves)
    : money_moves_(std::move(money_moves)) {
  ORDO_ASSERT(money_moves_ != nullptr, "webhook_gateway needs a gateway for captures, voids, refunds");
}

void webhook_gateway::authorize(const payment_request&, payment_callback done) {
  done(payment_result{payment_status::pending, {}, "awaiting the payment webhook"});
}

void webhook_gateway::capture(const payment_request& r, payment_callback done) {
  money_moves_->capture(r, std::move(done));
}

void webhook_gateway::void_payment(const payment_request& r, payment_callback done) {
  money_moves_->void_payment(r, std::move(done));
}

void webhook_gateway::refund(const payment_request& r, payment_callback done) {
  money_moves_->refund(r, std::move(done));
}

} // namespace ordo::saga
