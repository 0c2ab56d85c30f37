#pragma once
// A test CA and node certificates made by scripts/make-test-ca.sh in a temporary directory,
// removed again at the end: the cluster tests run with TLS on, as production does.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

#ifndef ORDO_MAKE_TEST_CA
#error "ORDO_MAKE_TEST_CA must name scripts/make-test-ca.sh"
#endif

namespace ordo::test {

struct test_ca {
  std::string dir;

  /// A new CA with certificates for nodes 1..nodes (CN ordo-node-<id>).
  explicit test_ca(int nodes) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ordo-ca-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    auto cmd = fmt::format("timeout 60 {} '{}' {} >/dev/null", ORDO_MAKE_TEST_CA, dir, nodes);
    REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "make-test-ca.sh failed: " << cmd);
  }
  ~test_ca() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  test_ca(const test_ca&) = delete;
  test_ca& operator=(const test_ca&) = delete;

  std::string ca() const { return dir + "/ca.pem"; }
  std::string cert(int id) const { return fmt::format("{}/node-{}.pem", dir, id); }
  std::string key(int id) const { return fmt::format("{}/node-{}.key", dir, id); }
  /// The [cluster] lines that give node `id` its certificate, key and this CA.
  std::string settings(int id) const {
    return fmt::format("tls_certificate = \"{}\"\ntls_key = \"{}\"\ntls_ca = \"{}\"\n", cert(id),
                       key(id), ca());
  }
};

} // namespace ordo::test
