#pragma once
// Golden files (tests/golden/files/): bytes of every persisted shape, written once by
// `ORDO_WRITE_GOLDEN=1 golden_tests --test-suite=golden_write` and never regenerated
// (tests/README.md, "Golden files"). Readers fail when a file is missing; the writer never
// replaces one that exists.

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/core.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message_lite.h>

namespace ordo::golden {

namespace fs = std::filesystem;

inline fs::path data_dir() {
  return fs::path{ORDO_GOLDEN_DIR};
}

/// The bytes of golden file `rel`; a missing file fails the test, naming how to write it.
inline std::string read_golden(const std::string& rel) {
  const auto path = data_dir() / rel;
  std::ifstream in{path, std::ios::binary};
  if (!in)
    FAIL("golden file " << path.string() << " is missing; golden files are written once: "
                        << "ORDO_WRITE_GOLDEN=1 golden_tests --test-suite=golden_write");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Writes golden file `rel` unless it exists (O_EXCL: an existing file is never replaced).
/// Returns true if written.
inline bool write_golden_once(const std::string& rel, std::string_view bytes) {
  const auto path = data_dir() / rel;
  fs::create_directories(path.parent_path());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    REQUIRE_MESSAGE(errno == EEXIST, "cannot create ", path.string());
    MESSAGE("kept existing golden file ", rel);
    return false;
  }
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
  ::close(fd);
  REQUIRE_MESSAGE(ok, "cannot write ", path.string());
  MESSAGE("wrote golden file ", rel, " (", bytes.size(), " bytes)");
  return true;
}

/// Records as a stream of (varint length, bytes): Protobuf's delimited form.
inline std::string delimited(const std::vector<std::string>& records) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream raw{&out};
    google::protobuf::io::CodedOutputStream coded{&raw};
    for (const auto& r : records) {
      coded.WriteVarint32(static_cast<uint32_t>(r.size()));
      coded.WriteRaw(r.data(), static_cast<int>(r.size()));
    }
  }
  return out;
}

inline std::vector<std::string> undelimited(std::string_view bytes) {
  std::vector<std::string> out;
  google::protobuf::io::CodedInputStream in{reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size())};
  uint32_t size = 0;
  while (in.ReadVarint32(&size)) {
    std::string r;
    REQUIRE_MESSAGE(in.ReadString(&r, static_cast<int>(size)), "delimited stream cut short");
    out.push_back(std::move(r));
  }
  REQUIRE_MESSAGE(in.CurrentPosition() == static_cast<int>(bytes.size()),
                  "delimited stream has trailing bytes");
  return out;
}

/// A state's hash: FNV-1a (64 bits, hex) of its deterministic serialization (fields by number,
/// map entries by key), so equal states hash alike whatever their map's insertion order.
inline std::string state_hash(const google::protobuf::MessageLite& state) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw{&bytes};
    google::protobuf::io::CodedOutputStream coded{&raw};
    coded.SetSerializationDeterministic(true);
    state.SerializeToCodedStream(&coded);
  }
  uint64_t h = 1469598103934665603ULL;
  for (char c : bytes)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return fmt::format("{:016x}", h);
}

/// One line of state_hashes.txt: "order <id> <last_sequence> <hash>" or "inventory <sku> ...".
struct recorded_state {
  std::string kind, id;
  uint64_t last_sequence = 0;
  std::string hash;
};

inline std::vector<recorded_state> parse_state_hashes(const std::string& text) {
  std::vector<recorded_state> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream l{line};
    recorded_state r;
    REQUIRE_MESSAGE(static_cast<bool>(l >> r.kind >> r.id >> r.last_sequence >> r.hash),
                    "state_hashes.txt: bad line '", line, "'");
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace ordo::golden
