// Request ids (http/request_id) and the access line's two renderings
// (http/access_log): what a client may name its request, and that a line
// stays one valid JSON object whatever bytes its values hold.

#include "http/access_log.hpp"
#include "http/request_id.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <string>

using namespace hitl;

TEST_CASE("a client's X-Request-Id is taken only when it is 1-128 visible "
          "ASCII characters") {
  CHECK(acceptable_request_id("a"));
  CHECK(acceptable_request_id("4bf92f35-77b3-4da6-a3ce-929d0e0e4736"));
  CHECK(acceptable_request_id(std::string(128, 'x')));
  CHECK(acceptable_request_id("!~{}\"<>"));
  CHECK_FALSE(acceptable_request_id(""));
  CHECK_FALSE(acceptable_request_id(std::string(129, 'x')));
  CHECK_FALSE(acceptable_request_id("two words"));
  CHECK_FALSE(acceptable_request_id("tab\there"));
  CHECK_FALSE(acceptable_request_id("line\nbreak"));
  CHECK_FALSE(acceptable_request_id("del\x7f"));
  CHECK_FALSE(acceptable_request_id("caf\xc3\xa9"));
  CHECK_FALSE(acceptable_request_id(std::string("nul\0", 4)));
}

TEST_CASE("generated request ids are unique, short and themselves "
          "acceptable") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto id = generated_request_id();
    REQUIRE(acceptable_request_id(id));
    CHECK(id.size() <= 8 + 1 + 16);
    CHECK(id[8] == '-');
    seen.insert(id);
  }
  CHECK(seen.size() == 10000);
}

TEST_CASE("an access line in JSON is one object with its fields, escaped") {
  access_entry e;
  e.request_id = "r-1";
  e.method = "GET";
  e.route = "/hitl/decisions/{decision_id}";
  e.status = 404;
  e.duration_ms = 1.23456;
  e.identity = "alice \"the\" reviewer";
  e.role = "reviewer";
  e.decision_id = "dec\n\"}{x";
  e.remote = "127.0.0.1";
  auto members = access_log::render(log_format::json, e);
  CHECK(members.find('\n') == std::string::npos);
  // What cli/json_log_formatter puts before the members.
  auto line = nlohmann::json::parse(R"({"ts":"t","level":"info",)" + members);
  CHECK(line["msg"] == "access");
  CHECK(line["request_id"] == "r-1");
  CHECK(line["route"] == "/hitl/decisions/{decision_id}");
  CHECK(line["status"] == 404);
  CHECK(line["duration_ms"] == doctest::Approx(1.235));
  CHECK(line["identity"] == "alice \"the\" reviewer");
  CHECK(line["role"] == "reviewer");
  CHECK(line["decision_id"] == "dec\n\"}{x");
  CHECK(line["remote"] == "127.0.0.1");
  CHECK_FALSE(line.contains("patch_id"));

  // Unauthenticated: no identity at all, rather than an empty one.
  e.identity = {};
  e.role = {};
  e.decision_id = "\xff\xfe";
  line = nlohmann::json::parse(R"({"ts":"t","level":"info",)"
                               + access_log::render(log_format::json, e));
  CHECK_FALSE(line.contains("identity"));
  CHECK_FALSE(line.contains("role"));
  CHECK(line["decision_id"] == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("an access line in text names the request's id") {
  access_entry e;
  e.request_id = "r-2";
  e.method = "POST";
  e.route = "/hitl/admin/create-decision";
  e.status = 201;
  e.duration_ms = 2.5;
  e.identity = "wargaming";
  e.role = "service";
  e.decision_id = "dec-1";
  e.remote = "::1";
  CHECK(access_log::render(log_format::text, e)
        == "POST /hitl/admin/create-decision 201 2.50ms wargaming/service "
           "request=r-2 decision=dec-1 from ::1");
  e.identity = {};
  e.role = {};
  e.decision_id = {};
  CHECK(access_log::render(log_format::text, e)
        == "POST /hitl/admin/create-decision 201 2.50ms - request=r-2 "
           "from ::1");
}
