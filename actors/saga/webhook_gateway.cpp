#include "actors/saga/webhook_gateway.hpp"

#include <utility>

namespace ordo::saga {

webhook_gateway::webhook_gateway(std::shared_ptr<payment_gateway> money_moves)
    : money_moves_(money_moves ? std::move(money_moves) : std::make_shared<simulated_gateway>()) {}

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
