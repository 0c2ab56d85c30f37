#pragma once
// CRC32C (Castagnoli), table-driven (slicing-by-8) with an SSE4.2 fast path; no dependency. Every
// stored record carries one.

#include <cstdint>
#include <string_view>

namespace ordo::storage {

/// Extends `crc` (0 to start) over `bytes`. Uses the SSE4.2 instruction when the CPU has it,
/// the portable tables otherwise (same result; tests compare both).
uint32_t crc32c_table(uint32_t crc, std::string_view bytes);

/// Extends `crc` (0 to start) over `bytes`.
uint32_t crc32c(uint32_t crc, std::string_view bytes);

inline uint32_t crc32c(std::string_view bytes) {
  return crc32c(0, bytes);
}

} // namespace ordo::storage
