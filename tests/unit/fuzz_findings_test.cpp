// Inputs that tests/fuzz found to break a property, one test each, so that
// the fix stays. Each input is also in the seed corpus of its target.

#include "cli/service_config.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

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

TEST_CASE("fuzz: a config key with a NUL keeps its message whole") {
  // fuzz_config_file: the unknown key was copied into the message as it
  // was, and what() ended at its NUL: "notifications.auth_failure".
  auto doc = nlohmann::json::parse(
    R"({"notifications": {"auth_failure\u0000_window_seconds": 1}})");
  CHECK_THROWS_WITH_AS(
    parse_service_config(doc),
    "notifications.auth_failure\\u0000_window_seconds: unknown key",
    config_error);
  doc = nlohmann::json::parse(
    R"({"webhooks": [{"url": "http://x", "events": ["a\u0000\n"]}]})");
  CHECK_THROWS_WITH_AS(parse_service_config(doc),
                       R"(webhooks[0].events[0]: unknown event "a\u0000\n")",
                       config_error);
}
