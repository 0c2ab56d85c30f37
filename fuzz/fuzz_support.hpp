#pragma once
// Shared by the fuzz targets: the checks a target makes beyond "no crash", and the pieces an
// input is cut into.
//
// FUZZ_CHECK reports what broke and aborts: libFuzzer records the input as a crasher, and the
// regression driver (regression_main.cpp) dies, so its CTest entry fails.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                                     \
  do {                                                                                             \
    if (!(cond)) ::ordo::fuzz::check_failed(__FILE__, __LINE__, #cond, (what));                    \
  } while (false)

namespace ordo::fuzz {

[[noreturn]] inline void check_failed(const char* file, int line, const char* cond,
                                      std::string_view what) {
  std::fprintf(stderr, "FUZZ CHECK FAILED %s:%d: %s\n  %.*s\n", file, line, cond,
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

/// The input as bytes taken off the front; past the end every read is empty or zero.
class input {
public:
  input(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  uint8_t byte() {
    if (rest_.empty()) return 0;
    auto b = static_cast<uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }
  std::string_view take(size_t n) {
    auto s = rest_.substr(0, n);
    rest_.remove_prefix(s.size());
    return s;
  }
  std::string_view rest() { return take(rest_.size()); }

private:
  std::string_view rest_;
};

/// Printable form of bytes for a failure message (first 200 bytes, escaped).
inline std::string shown(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

} // namespace ordo::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
