// The gate over HTTP, against the `hitl` binary and a real PostgreSQL:
// /health goes the way requests go (a bridge, the supervisor, the auditor,
// one database probe a second) and says 503 naming what is down; and the
// attack that used to take the write path down leaves it working.

#include "tests/pg/metrics_text.hpp"
#include "tests/pg/pg_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>
#include <vector>

using namespace hitl::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// A raw HTTP/1.1 exchange on a fresh connection (curl would not send the
/// bytes of the attack as they are): the status, 0 for no answer.
int raw_status(int port, const std::string& request, std::string* reply) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return 0;
  }
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    got.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (reply)
    *reply = got;
  if (got.rfind("HTTP/1.1 ", 0) != 0 || got.size() < 12)
    return 0;
  return std::stoi(got.substr(9, 3));
}

// GET /health until it answers `status` (a report serves for up to a
// second), for at most 30 s; the last answer.
http_response health_until(const served_hitl& hitl, long status) {
  http_response r;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  do {
    r = http_request("GET", hitl.base_url() + "/health");
    if (r.status == status)
      break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return r;
}

double health_rounds(const served_hitl& hitl) {
  return series_value(http_request("GET", hitl.base_url() + "/metrics").body,
                      "hitl_health_probes_total");
}

std::string make_token(const std::string& url, const std::string& name,
                       const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--database-url", url});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

} // namespace

TEST_CASE("health checks the write path: 503 naming the database while "
          "PostgreSQL is down, 200 again once it is back") {
  auto url = fresh_database("hitl_health");
  served_hitl hitl{url};
  auto up = health_until(hitl, 200);
  REQUIRE(up.status == 200);
  auto body = json::parse(up.body);
  CHECK(body["status"] == "ok");
  CHECK(body["checks"]["database"]["status"] == "up");
  CHECK(body["checks"]["database"]["latency_ms"].is_number());
  CHECK(body["checks"]["supervisor"]["status"] == "up");
  CHECK(body["checks"]["auditor"]["status"] == "up");
  // serve applied the migrations itself
  CHECK(sql_scalar(url, "SELECT count(*) > 0 FROM schema_migrations") == "t");

  pg_ctl("stop");
  auto down = health_until(hitl, 503);
  pg_ctl("start");
  REQUIRE(down.status == 503);
  auto d = json::parse(down.body);
  CHECK(d["status"] == "unavailable");
  CHECK(d["checks"]["database"]["status"] == "down");
  // The auditor's writer needs the database; the supervisor does not.
  CHECK(d["checks"]["auditor"]["status"] == "down");
  CHECK(d["checks"]["supervisor"]["status"] == "up");
  auto back = health_until(hitl, 200);
  CHECK(back.status == 200);
  CHECK(json::parse(back.body)["checks"]["auditor"]["status"] == "up");
}

TEST_CASE("100 concurrent /health requests cost one round of checks (one "
          "database probe) a second") {
  served_hitl hitl{fresh_database("hitl_health_burst")};
  REQUIRE(health_until(hitl, 200).status == 200);
  auto before = health_rounds(hitl);
  REQUIRE(before >= 1);
  // The report is stale after a second: the burst needs a round of its own.
  std::this_thread::sleep_for(1100ms);
  constexpr int n = 100;
  std::vector<long> statuses(n);
  std::vector<std::thread> clients;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    clients.emplace_back([&, i] {
      statuses[i] = http_request("GET", hitl.base_url() + "/health").status;
    });
  for (auto& c : clients)
    c.join();
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - started)
                .count();
  auto rounds = health_rounds(hitl) - before;
  MESSAGE(n << " requests in " << took << " s: " << rounds
            << " round(s) of checks");
  CHECK(std::count(statuses.begin(), statuses.end(), 200L) == n);
  // A round starts at most once a second, however fast the machine is.
  CHECK(rounds >= 1);
  CHECK(rounds <= std::floor(took) + 1);
}

TEST_CASE("the four-request attack leaves the write path working: raw bytes "
          "in a path never cost a bridge") {
  auto url = fresh_database("hitl_fail_attack");
  served_hitl hitl{url};
  auto reviewer = make_token(url, "alice", "reviewer");
  auto service = make_token(url, "wargaming", "service");
  std::string body = R"({"decision_id":"x"})";
  std::map<int, int> statuses;
  // Twice the four bridges.
  for (int i = 0; i < 8; ++i) {
    std::string reply;
    auto status = raw_status(
      hitl.port(),
      "POST /hitl/patches/a\xff" + std::to_string(i)
        + "/approve HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
        + reviewer
        + "\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Content-Length: "
        + std::to_string(body.size()) + "\r\n\r\n" + body,
      &reply);
    ++statuses[status];
    CAPTURE(reply);
    // Refused at the edge (404), or failed and answered (500): never an
    // empty reply, never the exception's text.
    CHECK((status == 404 || status == 500));
    CHECK(reply.find("application/problem+json") != std::string::npos);
    CHECK(reply.find("type_error") == std::string::npos);
  }
  for (const auto& [status, count] : statuses)
    MESSAGE("status " << status << ": " << count);

  auto metrics = http_request("GET", hitl.base_url() + "/metrics");
  CHECK(series_value(metrics.body, failures_series("bridge")) == statuses[500]);
  auto health = http_request("GET", hitl.base_url() + "/health");
  CHECK(health.status == 200);
  auto created = http_request(
    "POST", hitl.base_url() + "/hitl/admin/create-decision",
    json{{"patch_id", "p-after-attack"},
         {"patch_metadata",
          {{"apv_id", "apv-1"},
           {"cve_id", "CVE-2026-1"},
           {"package_name", "zlib"},
           {"current_version", "1.0"},
           {"target_version", "1.1"},
           {"severity", "high"}}},
         {"ml_prediction", {{"confidence", 0.5}, {"prediction", true}}}}
      .dump(),
    {"Authorization: Bearer " + service, "Content-Type: application/json"});
  REQUIRE(created.status == 201);
  auto approved = http_request(
    "POST", hitl.base_url() + "/hitl/patches/p-after-attack/approve",
    R"({"comment":"fine"})",
    {"Authorization: Bearer " + reviewer, "Content-Type: application/json"});
  CHECK(approved.status == 200);
  CHECK(json::parse(approved.body)["decision"] == "approved");
}
