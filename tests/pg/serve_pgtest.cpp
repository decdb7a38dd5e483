// `hitl serve` as a process: health with and without PostgreSQL, and a
// clean stop on SIGTERM.

#include "tests/pg/pg_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <thread>

using namespace hitl::test;

TEST_CASE("health reports the database, 503 while PostgreSQL is down") {
  auto url = fresh_database("hitl_serve");
  served_hitl hitl{url};
  auto r = http_request("GET", hitl.base_url() + "/health");
  CHECK(r.status == 200);
  auto body = nlohmann::json::parse(r.body);
  CHECK(body["status"] == "ok");
  CHECK(body["checks"]["database"]["status"] == "up");
  // serve applied the migrations itself
  CHECK(sql_scalar(url, "SELECT count(*) > 0 FROM schema_migrations") == "t");

  pg_ctl("stop");
  auto down = http_request("GET", hitl.base_url() + "/health");
  pg_ctl("start");
  CHECK(down.status == 503);
  CHECK(nlohmann::json::parse(down.body)["checks"]["database"]["status"]
        == "down");
  auto back = http_request("GET", hitl.base_url() + "/health");
  CHECK(back.status == 200);
}

TEST_CASE("SIGTERM stops serve cleanly within a few seconds") {
  auto url = fresh_database("hitl_sigterm");
  served_hitl hitl{url};
  CHECK(http_request("GET", hitl.base_url() + "/health").status == 200);
  auto started = std::chrono::steady_clock::now();
  int code = hitl.terminate(std::chrono::seconds(5));
  CHECK(code == 0);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("unknown routes are problem+json 404") {
  auto url = fresh_database("hitl_404");
  served_hitl hitl{url};
  auto r = http_request("GET", hitl.base_url() + "/nope");
  CHECK(r.status == 404);
  CHECK(r.headers["content-type"] == "application/problem+json");
}
