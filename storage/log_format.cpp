#include "storage/log_format.hpp"

#include <algorithm>

#include "storage/codec.hpp"
#include "storage/crc32c.hpp"

namespace ordo::storage::logfmt {

namespace {

void put_str(std::string& out, std::string_view s) {
  codec::put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// A bounds-checked cursor over a payload: every read fails (ok = false) instead of running over.
struct reader {
  std::string_view in;
  size_t at = 0;
  bool ok = true;

  uint64_t u64() {
    if (!ok || in.size() - at < 8) return fail();
    auto v = codec::get_u64(in, at);
    at += 8;
    return v;
  }
  uint32_t u32() {
    if (!ok || in.size() - at < 4) return static_cast<uint32_t>(fail());
    auto v = codec::get_u32(in, at);
    at += 4;
    return v;
  }
  uint8_t u8() {
    if (!ok || in.size() - at < 1) return static_cast<uint8_t>(fail());
    return static_cast<uint8_t>(in[at++]);
  }
  std::string str() {
    auto n = u32();
    if (!ok || in.size() - at < n) {
      fail();
      return {};
    }
    std::string s{in.substr(at, n)};
    at += n;
    return s;
  }
  // A count of items each at least `min_item` bytes: refuses counts the rest cannot hold, so a
  // damaged count never makes us reserve gigabytes.
  uint32_t count(size_t min_item) {
    auto n = u32();
    if (ok && n > (in.size() - at) / std::max<size_t>(min_item, 1)) fail();
    return ok ? n : 0;
  }
  uint64_t fail() {
    ok = false;
    return 0;
  }
};

} // namespace

size_t record_count(const append_request& r) {
  return r.events.size() + r.idempotency.size() + (r.snapshot ? 1 : 0) + r.timer_schedules.size() +
         r.timer_cancels.size();
}

std::string encode_batch(const logged_batch& b) {
  std::string out;
  codec::put_u32(out, static_cast<uint32_t>(b.requests.size()));
  for (const auto& lr : b.requests) {
    const auto& r = lr.req;
    put_str(out, r.entity);
    codec::put_u64(out, r.expected_seq);
    codec::put_u64(out, lr.first_position);
    codec::put_u64(out, r.now_ms);
    codec::put_u32(out, static_cast<uint32_t>(r.events.size()));
    for (const auto& e : r.events)
      put_str(out, e);
    codec::put_u32(out, static_cast<uint32_t>(r.idempotency.size()));
    for (const auto& i : r.idempotency) {
      put_str(out, i.entity);
      put_str(out, i.key);
      put_str(out, i.result);
    }
    out.push_back(r.snapshot ? 1 : 0);
    if (r.snapshot) {
      codec::put_u64(out, r.snapshot->seq);
      put_str(out, r.snapshot->bytes);
    }
    codec::put_u32(out, static_cast<uint32_t>(r.timer_schedules.size()));
    for (const auto& s : r.timer_schedules) {
      put_str(out, s.timer_id);
      codec::put_u64(out, s.due_ms);
      put_str(out, s.payload);
    }
    codec::put_u32(out, static_cast<uint32_t>(r.timer_cancels.size()));
    for (const auto& c : r.timer_cancels)
      put_str(out, c);
  }
  return out;
}

std::optional<std::vector<logged_request>> decode_batch(std::string_view bytes) {
  reader in{bytes};
  std::vector<logged_request> out;
  const uint32_t n = in.count(4 + 8 * 3 + 4 * 4 + 1);
  out.reserve(n);
  for (uint32_t i = 0; i < n && in.ok; ++i) {
    logged_request lr;
    auto& r = lr.req;
    r.entity = in.str();
    r.expected_seq = in.u64();
    lr.first_position = in.u64();
    r.now_ms = in.u64();
    for (uint32_t k = in.count(4); k > 0 && in.ok; --k)
      r.events.push_back(in.str());
    for (uint32_t k = in.count(12); k > 0 && in.ok; --k) {
      idempotency_record rec;
      rec.entity = in.str();
      rec.key = in.str();
      rec.result = in.str();
      r.idempotency.push_back(std::move(rec));
    }
    if (auto flag = in.u8(); flag == 1) {
      snapshot_write s;
      s.seq = in.u64();
      s.bytes = in.str();
      r.snapshot = std::move(s);
    } else if (flag != 0) {
      in.fail();
    }
    for (uint32_t k = in.count(16); k > 0 && in.ok; --k) {
      timer_schedule s;
      s.timer_id = in.str();
      s.due_ms = in.u64();
      s.payload = in.str();
      r.timer_schedules.push_back(std::move(s));
    }
    for (uint32_t k = in.count(4); k > 0 && in.ok; --k)
      r.timer_cancels.push_back(in.str());
    out.push_back(std::move(lr));
  }
  if (!in.ok || in.at != bytes.size()) return std::nullopt;
  return out;
}

std::string encode_frame(uint64_t epoch, uint64_t position, std::string_view payload) {
  std::string out;
  out.reserve(frame_header_bytes + payload.size());
  codec::put_u32(out, frame_magic);
  codec::put_u32(out, 0); // crc, below
  codec::put_u32(out, static_cast<uint32_t>(payload.size()));
  codec::put_u64(out, epoch);
  codec::put_u64(out, position);
  out.append(payload);
  const uint32_t crc = crc32c(std::string_view{out}.substr(8));
  std::string crc_bytes;
  codec::put_u32(crc_bytes, crc);
  out.replace(4, 4, crc_bytes);
  return out;
}

frame_view read_frame(std::string_view bytes) {
  frame_view f;
  if (bytes.size() < frame_header_bytes) {
    f.status = std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; })
                   ? frame_status::empty
                   : frame_status::bad;
    return f;
  }
  auto header = bytes.substr(0, frame_header_bytes);
  if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) {
    f.status = frame_status::empty;
    return f;
  }
  if (codec::get_u32(bytes, 0) != frame_magic) return f;
  const uint32_t len = codec::get_u32(bytes, 8);
  if (bytes.size() - frame_header_bytes < len) return f;
  const uint32_t crc = codec::get_u32(bytes, 4);
  if (crc32c(bytes.substr(8, frame_header_bytes - 8 + len)) != crc) return f;
  f.status = frame_status::ok;
  f.epoch = codec::get_u64(bytes, 12);
  f.position = codec::get_u64(bytes, 20);
  f.payload = bytes.substr(frame_header_bytes, len);
  f.size = frame_header_bytes + len;
  return f;
}

} // namespace ordo::storage::logfmt
