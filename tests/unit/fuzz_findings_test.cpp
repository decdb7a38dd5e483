// Inputs that tests/fuzz found to break a property, one test each, so that
// the fix stays. Each input is also in the seed corpus of its target.

#include "cli/service_config.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace hitl;

TEST_CASE("fuzz: a config number beyond a double is a config_error") {
  // fuzz_config_file: nlohmann throws out_of_range.406 for 1e400, which
  // load_service_config let escape instead of naming the file.
  auto path = "/tmp/hitl_fuzz_finding_" + std::to_string(getpid()) + ".json";
  {
    std::ofstream out{path};
    out << R"({"sla_seconds": {"high": 1e400}})";
  }
  CHECK_THROWS_WITH_AS(load_service_config(path),
                       doctest::Contains("not valid JSON"), config_error);
  std::remove(path.c_str());
}
