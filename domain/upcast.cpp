// The upcasters (see upcast.hpp for the shapes each one repairs).
#include "domain/upcast.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "domain/limits.hpp"

namespace ordo::domain {

v1::RejectionCode current_rejection_code(v1::RejectionCode written) {
  return written == v1::REJECTION_CODE_UNSPECIFIED ? v1::REJECTION_CODE_INSUFFICIENT_STOCK
                                                   : written;
}

bool upcast(v1::OrderEvent& event) {
  if (!event.has_order_rejected()) return false;
  auto* rejected = event.mutable_order_rejected();
  const auto code = current_rejection_code(rejected->code());
  if (code == rejected->code()) return false;
  rejected->set_code(code);
  return true;
}

bool upcast(v1::OrderState& state) {
  if (state.status() != v1::ORDER_STATUS_REJECTED) return false;
  const auto code = current_rejection_code(state.close_code());
  if (code == state.close_code()) return false;
  state.set_close_code(code);
  return true;
}

bool upcast(v1::InventoryState& state) {
  if (state.committed_order_size() > 0 || state.committed().empty()) return false;
  std::vector<std::string> ids;
  ids.reserve(state.committed().size());
  for (const auto& [id, quantity] : state.committed())
    ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  const auto keep = std::min<size_t>(ids.size(), limits::committed_remembered_max);
  for (size_t i = 0; i < ids.size() - keep; ++i)
    state.mutable_committed()->erase(ids[i]);
  for (size_t i = ids.size() - keep; i < ids.size(); ++i)
    state.add_committed_order(ids[i]);
  return true;
}

bool upcast(v1::IdempotencyRecord& record, std::string_view storage_key) {
  if (record.key() == storage_key) return false;
  record.set_key(std::string(storage_key));
  return true;
}

} // namespace ordo::domain
