// storage_power_tool: look at an op log and rebuild one crash image by hand (for a failure
// kept by the power-loss test).
//   storage_power_tool dump LOG [FROM [TO]]
//   storage_power_tool image LOG BASE_DIR CUT synced|all|subset|torn|ordered SEED OUT_DIR
// Then: ordo-verify OUT_DIR.

#include <cstdlib>
#include <random>
#include <string>

#include <fmt/core.h>

#include "crash_image.hpp"
#include "op_log.hpp"

using namespace ordo::storage::power;

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if ((cmd != "dump" || argc < 3) && (cmd != "image" || argc != 8)) {
    fmt::print(stderr, "usage: storage_power_tool dump LOG [FROM [TO]]\n"
                       "       storage_power_tool image LOG BASE_DIR CUT POLICY SEED OUT_DIR\n");
    return 2;
  }
  std::string err;
  auto log = read_op_log(argv[2], err);
  if (!log) {
    fmt::print(stderr, "{}\n", err);
    return 1;
  }
  if (cmd == "dump") {
    size_t from = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
    size_t to = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : log->ops.size();
    for (size_t i = from; i < to && i < log->ops.size(); ++i)
      fmt::print("{:8} t{} {}\n", i, log->ops[i].tid, describe(log->ops[i]));
    if (log->truncated_tail) fmt::print("(partial record at the end)\n");
    return 0;
  }
  std::string p = argv[5];
  persist policy = persist::synced;
  for (auto c : {persist::synced, persist::all, persist::subset, persist::torn, persist::ordered})
    if (p == to_string(c)) policy = c;
  image_builder b(*log, read_files(argv[3]));
  b.advance_to(std::strtoull(argv[4], nullptr, 10));
  for (const auto& pr : b.problems())
    fmt::print(stderr, "model: {}\n", pr);
  std::mt19937_64 rng(std::strtoull(argv[6], nullptr, 10));
  write_image(b.image(policy, rng), argv[7]);
  fmt::print("image at cut {} ({}) written to {}\n", b.position(), to_string(policy), argv[7]);
  return 0;
}
