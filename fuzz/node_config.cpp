// Fuzz target: the node's configuration (app/node/config.hpp): a TOML config file
// (load_config_string, the same loader as load_config_file), the cross-field validation, and
// `--section.name=value` command-line overrides.
//
// Input: the text of a config file.
// Checks: nothing crashes or throws; a refusal is a config_invalid error naming its source;
// loading is deterministic; each line of the text applied as an override either works or is
// a config_invalid error.
#include <string>

#include "app/node/config.hpp"
#include "app/node/errors.hpp"
#include "fuzz/fuzz_support.hpp"

using ordo::fuzz::shown;
namespace node = ordo::node;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  auto cfg = node::load_config_string(text, "fuzz.toml");
  if (cfg) {
    FUZZ_CHECK(cfg->source == "fuzz.toml", "source");
    (void)node::validate(*cfg);
    auto again = node::load_config_string(text, "fuzz.toml");
    FUZZ_CHECK(again && again->http.listen == cfg->http.listen &&
                   again->keys.size() == cfg->keys.size() &&
                   again->cluster.size() == cfg->cluster.size(),
               "a second load differs");
  } else {
    const std::string why = node::describe(cfg.error());
    FUZZ_CHECK(why.find("fuzz.toml") != std::string::npos, "error does not name the file: " + why);
  }
  node::node_config over;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    auto r = node::apply_override(over, std::string{text.substr(start, end - start)});
    if (!r)
      FUZZ_CHECK(node::describe(r.error()).rfind("config_invalid", 0) == 0,
                 "override error: " + shown(node::describe(r.error())));
    start = end + 1;
  }
  (void)node::validate(over);
  return 0;
}
