#include "crash_image.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include <fmt/core.h>

namespace ordo::storage::power {

namespace fs = std::filesystem;

namespace {

constexpr size_t none = std::numeric_limits<size_t>::max();

std::string parent_of(std::string_view name) {
  auto slash = name.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(name.substr(0, slash));
}

void apply_bytes(std::string& buf, uint64_t off, std::string_view bytes) {
  if (buf.size() < off + bytes.size()) buf.resize(off + bytes.size(), '\0');
  std::memcpy(buf.data() + off, bytes.data(), bytes.size());
}

void apply_size(std::string& buf, const op& o) {
  if (o.type == PL_TRUNCATE)
    buf.resize(o.a, '\0');
  else if (o.type == PL_EXTEND && buf.size() < o.a)
    buf.resize(o.a, '\0');
}

} // namespace

const char* to_string(persist p) {
  switch (p) {
  case persist::synced:
    return "synced";
  case persist::all:
    return "all";
  case persist::subset:
    return "subset";
  case persist::torn:
    return "torn";
  case persist::ordered:
    return "ordered";
  }
  return "?";
}

image_builder::image_builder(const op_log& log, file_map base, model_options opts)
    : log_(log), opts_(opts) {
  for (auto& [name, bytes] : base) {
    node n;
    n.durable = std::move(bytes);
    n.first_name = name;
    durable_names_[name] = live_names_[name] = nodes_.size();
    nodes_.push_back(std::move(n));
  }
}

size_t image_builder::node_of(uint32_t file, size_t at) {
  auto it = node_of_file_.find(file);
  if (it != node_of_file_.end()) return it->second;
  problems_.push_back(fmt::format("op {}: file #{} was never opened", at, file));
  nodes_.emplace_back();
  return node_of_file_[file] = nodes_.size() - 1;
}

void image_builder::sync_node(size_t n) {
  auto& nd = nodes_[n];
  for (size_t i : nd.pending) {
    const op& o = log_.ops[i];
    if (o.type == PL_WRITE)
      apply_bytes(nd.durable, o.a, o.data);
    else
      apply_size(nd.durable, o);
  }
  nd.pending.clear();
}

void image_builder::force_names(size_t count) {
  count = std::min(count, pending_names_.size());
  for (size_t i = 0; i < count; ++i) {
    const auto& no = pending_names_[i];
    if (no.kind == name_op::create) {
      durable_names_[no.name] = no.node;
    } else if (no.kind == name_op::rename) {
      auto it = durable_names_.find(no.name);
      if (it != durable_names_.end()) {
        size_t n = it->second;
        durable_names_.erase(it);
        durable_names_[no.to] = n;
      }
    } else {
      durable_names_.erase(no.name);
    }
  }
  pending_names_.erase(pending_names_.begin(),
                       pending_names_.begin() + static_cast<std::ptrdiff_t>(count));
}

void image_builder::advance_to(size_t cut) {
  cut = std::min(cut, log_.ops.size());
  for (; pos_ < cut; ++pos_) {
    const op& o = log_.ops[pos_];
    std::string name(o.data);
    switch (o.type) {
    case PL_FILE: {
      auto it = live_names_.find(name);
      if (it == live_names_.end()) {
        problems_.push_back(fmt::format("op {}: '{}' existed but is not in the base", pos_, name));
        nodes_.emplace_back();
        nodes_.back().first_name = name;
        node_of_file_[o.file] = live_names_[name] = durable_names_[name] = nodes_.size() - 1;
      } else {
        node_of_file_[o.file] = it->second;
      }
      break;
    }
    case PL_CREATE: {
      nodes_.emplace_back();
      nodes_.back().first_name = name;
      size_t n = nodes_.size() - 1;
      node_of_file_[o.file] = live_names_[name] = n;
      pending_names_.push_back({name_op::create, name, "", n, pos_});
      break;
    }
    case PL_RENAME: {
      auto zero = name.find('\0');
      std::string from = name.substr(0, zero), to = name.substr(zero + 1);
      auto it = live_names_.find(from);
      if (it != live_names_.end()) {
        size_t n = it->second;
        live_names_.erase(it);
        live_names_[to] = n;
        pending_names_.push_back({name_op::rename, from, to, n, pos_});
      } else {
        problems_.push_back(fmt::format("op {}: rename of unknown '{}'", pos_, from));
      }
      break;
    }
    case PL_UNLINK:
      live_names_.erase(name);
      pending_names_.push_back({name_op::unlink, name, "", 0, pos_});
      break;
    case PL_WRITE:
    case PL_TRUNCATE:
    case PL_EXTEND: {
      size_t n = node_of(o.file, pos_);
      nodes_[n].pending.push_back(pos_);
      if (o.type == PL_WRITE && o.b != 0 && !opts_.strict_dir) {
        // O_DSYNC: like fdatasync, it commits the file's creation (not ours to sync data).
        for (size_t i = pending_names_.size(); i-- > 0;)
          if (pending_names_[i].kind == name_op::create && pending_names_[i].node == n) {
            force_names(i + 1);
            break;
          }
      }
      break;
    }
    case PL_FSYNC:
    case PL_FDATASYNC: {
      size_t n = node_of(o.file, pos_);
      sync_node(n);
      if (!opts_.strict_dir)
        for (size_t i = pending_names_.size(); i-- > 0;)
          if (pending_names_[i].kind == name_op::create && pending_names_[i].node == n) {
            force_names(i + 1);
            break;
          }
      break;
    }
    case PL_DIRSYNC:
      for (size_t i = pending_names_.size(); i-- > 0;) {
        const auto& no = pending_names_[i];
        if (parent_of(no.name) == name ||
            (no.kind == name_op::rename && parent_of(no.to) == name)) {
          force_names(i + 1);
          break;
        }
      }
      break;
    case PL_SYNCALL:
      for (size_t n = 0; n < nodes_.size(); ++n)
        sync_node(n);
      force_names(pending_names_.size());
      break;
    case PL_MMAP_SHARED:
      nodes_[node_of(o.file, pos_)].mapped = true;
      break;
    case PL_UNSUPPORTED:
      problems_.push_back(fmt::format("op {}: unsupported: {}", pos_, name));
      break;
    default:
      break;
    }
  }
}

std::set<std::string> image_builder::mapped_files() const {
  std::set<std::string> out;
  for (const auto& n : nodes_)
    if (n.mapped) out.insert(n.first_name);
  return out;
}

std::string image_builder::content(size_t n, persist policy, size_t moment, double keep_p,
                                   std::mt19937_64& rng, size_t extra) const {
  const node& nd = nodes_[n];
  std::vector<size_t> ops = nd.pending;
  if (extra != none) ops.push_back(extra);
  if (ops.empty()) return nd.durable;
  std::bernoulli_distribution keep_coin(keep_p), half(0.5);
  std::vector<char> keep(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    switch (policy) {
    case persist::synced:
      keep[i] = 0;
      break;
    case persist::all:
      keep[i] = 1;
      break;
    case persist::subset:
      keep[i] = keep_coin(rng);
      break;
    case persist::torn:
      keep[i] = half(rng); // used for size changes only; sectors choose below
      break;
    case persist::ordered:
      keep[i] = ops[i] < moment;
      break;
    }
  }
  // Per sector: how many writes touch it (count), the version that is durable for sure
  // (min: up to its last durable write), and the version this image takes (chosen).
  struct sector {
    uint32_t count = 0, min = 0, chosen = 0, seen = 0;
  };
  std::unordered_map<uint64_t, sector> sectors;
  for (size_t i = 0; i < ops.size(); ++i) {
    const op& o = log_.ops[ops[i]];
    if (o.type != PL_WRITE || o.data.empty()) continue;
    bool durable = o.b != 0 && ops[i] != extra;
    for (uint64_t s = o.a / sector_bytes; s <= (o.a + o.data.size() - 1) / sector_bytes; ++s) {
      auto& st = sectors[s];
      ++st.count;
      if (durable) st.min = st.count;
      if (keep[i]) st.chosen = st.count;
    }
  }
  for (auto& [s, st] : sectors) {
    if (policy == persist::synced)
      st.chosen = st.min;
    else if (policy == persist::all)
      st.chosen = st.count;
    else if (policy == persist::torn)
      st.chosen = std::uniform_int_distribution<uint32_t>(st.min, st.count)(rng);
    else
      st.chosen = std::max(st.min, st.chosen);
  }
  std::string buf = nd.durable;
  for (size_t i = 0; i < ops.size(); ++i) {
    const op& o = log_.ops[ops[i]];
    if (o.type != PL_WRITE) {
      if (keep[i]) apply_size(buf, o);
      continue;
    }
    if (o.data.empty()) continue;
    for (uint64_t s = o.a / sector_bytes; s <= (o.a + o.data.size() - 1) / sector_bytes; ++s) {
      auto& st = sectors[s];
      if (st.seen++ >= st.chosen) continue;
      uint64_t lo = std::max(o.a, s * sector_bytes);
      uint64_t hi = std::min(o.a + o.data.size(), (s + 1) * sector_bytes);
      apply_bytes(buf, lo, o.data.substr(lo - o.a, hi - lo));
    }
  }
  return buf;
}

file_map image_builder::image(persist policy, std::mt19937_64& rng, bool in_flight) const {
  // The moment an in-order disk stopped at: between the oldest unsynced change and now.
  size_t oldest = pos_;
  for (const auto& n : nodes_)
    if (!n.pending.empty()) oldest = std::min(oldest, n.pending.front());
  if (!pending_names_.empty()) oldest = std::min(oldest, pending_names_.front().at);
  size_t moment = std::uniform_int_distribution<size_t>(oldest, pos_)(rng);
  double keep_p = std::uniform_real_distribution<double>(0.1, 0.9)(rng);

  size_t keep_names = 0;
  switch (policy) {
  case persist::synced:
    keep_names = 0;
    break;
  case persist::all:
    keep_names = pending_names_.size();
    break;
  case persist::ordered:
    while (keep_names < pending_names_.size() && pending_names_[keep_names].at < moment)
      ++keep_names;
    break;
  default:
    keep_names = std::uniform_int_distribution<size_t>(0, pending_names_.size())(rng);
  }
  auto names = durable_names_;
  for (size_t i = 0; i < keep_names; ++i) {
    const auto& no = pending_names_[i];
    if (no.kind == name_op::create) {
      names[no.name] = no.node;
    } else if (no.kind == name_op::rename) {
      auto it = names.find(no.name);
      if (it == names.end()) continue;
      size_t n = it->second;
      names.erase(it);
      names[no.to] = n;
    } else {
      names.erase(no.name);
    }
  }
  size_t extra = none, extra_node = none;
  if (in_flight && pos_ < log_.ops.size() && log_.ops[pos_].type == PL_WRITE) {
    auto it = node_of_file_.find(log_.ops[pos_].file);
    if (it != node_of_file_.end()) {
      extra = pos_;
      extra_node = it->second;
    }
  }
  file_map out;
  for (const auto& [name, n] : names)
    out[name] = content(n, policy, moment, keep_p, rng, n == extra_node ? extra : none);
  return out;
}

void write_image(const file_map& files, const std::string& dir) {
  fs::create_directories(dir);
  for (const auto& [name, bytes] : files) {
    fs::path p = fs::path(dir) / name;
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
}

file_map read_files(const std::string& dir) {
  file_map out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    out[fs::relative(it->path(), dir).string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

} // namespace ordo::storage::power
