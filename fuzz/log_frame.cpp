// Fuzz target: the shard log's bytes on disk (storage/log_format.hpp) — the frames recovery
// reads from segment files, and the batch each frame carries.
//
// Input: mode(1) rest. Mode bit 0 clear: `rest` is a segment's bytes from some offset, read as
// a frame. Bit 0 set: `rest` is a batch payload, wrapped in a correct frame first so the batch
// decoder is reached past the checksum.
// Checks: nothing crashes; a frame read as `ok` re-encodes to exactly its bytes and lies within
// the input; `empty` means zeros; a batch that decodes re-encodes to exactly its bytes (the log
// never accepts a form the writer would not produce).
#include <algorithm>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "storage/log_format.hpp"

namespace logfmt = ordo::storage::logfmt;
using ordo::fuzz::shown;

namespace {

void check_batch(std::string_view payload) {
  auto requests = logfmt::decode_batch(payload);
  if (!requests) return;
  logfmt::logged_batch b;
  b.requests = std::move(*requests);
  FUZZ_CHECK(logfmt::encode_batch(b) == payload, "batch re-encodes differently: " + shown(payload));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ordo::fuzz::input in{data, size};
  const uint8_t mode = in.byte();
  const std::string rest{in.rest()};
  const std::string bytes = (mode & 1) != 0 ? logfmt::encode_frame(1, 1, rest) : rest;

  auto f = logfmt::read_frame(bytes);
  switch (f.status) {
    case logfmt::frame_status::ok:
      FUZZ_CHECK(f.size <= bytes.size() && f.size == logfmt::frame_header_bytes + f.payload.size(),
                 "frame size");
      FUZZ_CHECK(logfmt::encode_frame(f.epoch, f.position, f.payload) == bytes.substr(0, f.size),
                 "frame re-encodes differently: " + shown(bytes));
      check_batch(f.payload);
      break;
    case logfmt::frame_status::empty: {
      const auto head = std::string_view{bytes}.substr(0, logfmt::frame_header_bytes);
      FUZZ_CHECK(std::all_of(head.begin(), head.end(), [](char c) { return c == 0; }),
                 "empty but not zeros: " + shown(bytes));
      break;
    }
    case logfmt::frame_status::bad:
      FUZZ_CHECK((mode & 1) == 0, "a frame we just encoded reads as bad: " + shown(rest));
      break;
  }
  return 0;
}
