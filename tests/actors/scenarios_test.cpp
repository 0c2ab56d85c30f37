// Every scenario file in tests/scenarios runs against the real runtime (CAF + LMDB).
#include <filesystem>

#include "app/scenario/embedded.hpp"
#include "test_runtime.hpp"

TEST_SUITE("scenarios") {
  TEST_CASE("every scenario file passes") {
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ORDO_SCENARIO_DIR)) {
      if (entry.path().extension() != ".scenario") continue;
      ++files;
      ordo::test::temp_dir dir;
      auto report = ordo::scenario::run_file(entry.path().string(), ordo::test::config_in(dir));
      INFO("scenario " << entry.path().filename().string());
      for (const auto& f : report.failures)
        MESSAGE(f);
      CHECK(report.ok());
      CHECK(report.steps_run > 0);
    }
    CHECK(files >= 5);
  }

  TEST_CASE("a failing expectation is reported with its line (the runner can fail)") {
    auto parsed = ordo::scenario::parse("place A line=SKU-1:1:100\nexpect state A DELIVERED\n");
    REQUIRE(parsed.errors.empty());
    ordo::test::temp_dir dir;
    auto report = ordo::scenario::run(parsed.steps, ordo::test::config_in(dir));
    REQUIRE(report.failures.size() == 1);
    CHECK(report.failures[0].find("line 2") == 0);
    CHECK(report.failures[0].find("is PLACED, expected DELIVERED") != std::string::npos);
  }

  TEST_CASE("parse errors name the line") {
    auto parsed = ordo::scenario::parse("place A\nfly A\nexpect\n");
    REQUIRE(parsed.errors.size() == 2);
    CHECK(parsed.errors[0] == "line 2: unknown step 'fly'");
    CHECK(parsed.errors[1].find("line 3:") == 0);
  }
}
