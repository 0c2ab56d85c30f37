#include "op_log.hpp"

#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/core.h>

namespace ordo::storage::power {

std::optional<op_log> read_op_log(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot open op log {}", path);
    return std::nullopt;
  }
  op_log log;
  auto all = std::make_shared<std::string>(std::istreambuf_iterator<char>(in),
                                           std::istreambuf_iterator<char>());
  log.bytes = all;
  const std::string& b = *all;
  if (b.size() < 8 || b.compare(0, 8, PL_MAGIC) != 0) {
    error = fmt::format("{}: not an op log (magic)", path);
    return std::nullopt;
  }
  size_t pos = 8;
  while (pos < b.size()) {
    pl_rec h;
    if (b.size() - pos < sizeof h) {
      log.truncated_tail = true;
      break;
    }
    std::memcpy(&h, b.data() + pos, sizeof h);
    if (b.size() - pos - sizeof h < h.len) {
      log.truncated_tail = true;
      break;
    }
    if (h.type < PL_FILE || h.type > PL_UNSUPPORTED) {
      error = fmt::format("{}: unknown record type {} at byte {}", path, h.type, pos);
      return std::nullopt;
    }
    op o;
    o.type = static_cast<pl_type>(h.type);
    o.file = h.file;
    o.a = h.a;
    o.b = h.b;
    o.tid = h.tid;
    o.data = std::string_view(b.data() + pos + sizeof h, h.len);
    log.ops.push_back(o);
    pos += sizeof h + h.len;
  }
  return log;
}

bool is_sync_point(const op& o) {
  switch (o.type) {
  case PL_FSYNC:
  case PL_FDATASYNC:
  case PL_DIRSYNC:
  case PL_SYNCALL:
    return true;
  case PL_WRITE:
    return o.b != 0;
  default:
    return false;
  }
}

namespace {

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\0')
      out += "\\0";
    else if (static_cast<unsigned char>(c) < 32 || static_cast<unsigned char>(c) > 126)
      out += '.';
    else
      out += c;
  }
  if (s.size() > max) out += "...";
  return out;
}

} // namespace

std::string describe(const op& o) {
  auto f = o.file;
  switch (o.type) {
  case PL_FILE:
    return fmt::format("FILE      #{} = existing '{}'", f, o.data);
  case PL_CREATE:
    return fmt::format("CREATE    #{} '{}'", f, o.data);
  case PL_RENAME:
    return fmt::format("RENAME    '{}'", printable(o.data, 200));
  case PL_UNLINK:
    return fmt::format("UNLINK    '{}'", o.data);
  case PL_WRITE:
    return fmt::format("WRITE     #{} off {} len {}{}", f, o.a, o.data.size(),
                       o.b != 0 ? " durable(O_DSYNC)" : "");
  case PL_TRUNCATE:
    return fmt::format("TRUNCATE  #{} to {}", f, o.a);
  case PL_EXTEND:
    return fmt::format("EXTEND    #{} to >= {}", f, o.a);
  case PL_FSYNC:
    return fmt::format("FSYNC     #{}", f);
  case PL_FDATASYNC:
    return fmt::format("FDATASYNC #{}", f);
  case PL_DIRSYNC:
    return fmt::format("DIRSYNC   '{}'", o.data);
  case PL_SYNCALL:
    return "SYNCALL";
  case PL_MARKER:
    return fmt::format("MARKER    '{}'", printable(o.data, 120));
  case PL_OPEN:
    return fmt::format("OPEN      #{} fd {} flags {:#o}", f, o.a, o.b);
  case PL_CLOSE:
    return fmt::format("CLOSE     #{} fd {}", f, o.a);
  case PL_MMAP_SHARED:
    return fmt::format("MMAP      #{} shared writable, {} bytes", f, o.b);
  case PL_SYNC_RANGE:
    return fmt::format("SYNCRANGE #{} off {} len {} (not a durability point)", f, o.a, o.b);
  case PL_MSYNC:
    return fmt::format("MSYNC     {} bytes", o.a);
  case PL_UNSUPPORTED:
    return fmt::format("UNSUPPORTED #{} {}", f, o.data);
  }
  return "?";
}

} // namespace ordo::storage::power
