// The field-level checks every command validator is built from.
#include "domain/validation.hpp"

#include <fmt/core.h>

#include "domain/decision.hpp"
#include "domain/limits.hpp"

namespace ordo::domain {

namespace {

field_error invalid(std::string message) {
  return make_rejection(v1::REJECTION_CODE_INVALID_ARGUMENT, std::move(message));
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

bool all_upper(std::string_view s) {
  for (char c : s)
    if (c < 'A' || c > 'Z') return false;
  return true;
}

} // namespace

field_error check_id(std::string_view field, std::string_view value) {
  if (value.size() < limits::id_bytes_min || value.size() > limits::id_bytes_max)
    return invalid(fmt::format("{}: length {} is outside {}..{} bytes", field, value.size(),
                               limits::id_bytes_min, limits::id_bytes_max));
  for (std::size_t i = 0; i < value.size(); ++i)
    if (!is_id_char(value[i]))
      return invalid(fmt::format("{}: byte {} (0x{:02x}) is not in [A-Za-z0-9._:-]", field, i,
                                 static_cast<unsigned char>(value[i])));
  return std::nullopt;
}

field_error check_quantity(std::string_view field, int64_t quantity) {
  if (quantity < limits::quantity_min || quantity > limits::quantity_max)
    return invalid(fmt::format("{}: {} is outside {}..{}", field, quantity, limits::quantity_min,
                               limits::quantity_max));
  return std::nullopt;
}

field_error check_currency(std::string_view field, std::string_view currency) {
  if (currency.size() != limits::currency_bytes || !all_upper(currency))
    return invalid(fmt::format("{}: \"{}\" is not an ISO-4217 code ({} uppercase letters)", field,
                               currency, limits::currency_bytes));
  return std::nullopt;
}

field_error check_money(std::string_view field, const v1::Money& money, int64_t min_minor,
                        int64_t max_minor) {
  if (money.amount_minor() < min_minor || money.amount_minor() > max_minor)
    return invalid(fmt::format("{}.amount_minor: {} is outside {}..{}", field, money.amount_minor(),
                               min_minor, max_minor));
  return check_currency(fmt::format("{}.currency", field), money.currency());
}

field_error check_text(std::string_view field, std::string_view value, std::size_t max_bytes,
                       bool required) {
  if (required && value.empty()) return invalid(fmt::format("{}: must not be empty", field));
  if (value.size() > max_bytes)
    return invalid(
        fmt::format("{}: {} bytes exceeds the limit of {}", field, value.size(), max_bytes));
  return std::nullopt;
}

field_error check_line(std::string_view field, const v1::OrderLine& line) {
  if (auto e = check_id(fmt::format("{}.sku", field), line.sku())) return e;
  if (auto e = check_quantity(fmt::format("{}.quantity", field), line.quantity())) return e;
  return check_money(fmt::format("{}.unit_price", field), line.unit_price(),
                     limits::unit_price_min_minor, limits::unit_price_max_minor);
}

field_error check_address(std::string_view field, const v1::Address& a) {
  const auto text = [&](const char* name, const std::string& v, bool required) {
    return check_text(fmt::format("{}.{}", field, name), v, limits::text_bytes_max, required);
  };
  if (auto e = text("name", a.name(), true)) return e;
  if (auto e = text("line1", a.line1(), true)) return e;
  if (auto e = text("line2", a.line2(), false)) return e;
  if (auto e = text("city", a.city(), true)) return e;
  if (auto e = text("postal_code", a.postal_code(), false)) return e;
  if (a.country().size() != limits::country_bytes || !all_upper(a.country()))
    return invalid(fmt::format("{}.country: \"{}\" is not an ISO-3166 code ({} uppercase letters)",
                               field, a.country(), limits::country_bytes));
  return std::nullopt;
}

} // namespace ordo::domain
