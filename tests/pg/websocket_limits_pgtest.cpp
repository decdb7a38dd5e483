// GET /hitl/ws against the real `hitl` binary over raw TCP: a hand-made
// handshake and hand-made (masked) frames, so that the test can send what
// no WebSocket library would: frames declaring gigabytes, messages split
// past the limit. Every socket operation has a deadline; none of the
// verdicts depends on the machine's speed.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"
#include "tests/pg/ws_test_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace hitl::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {



/// A generous bound on anything the server should do at once.
constexpr auto patience = 15s;

std::string make_token(const std::string& url, const std::string& name,
                       const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--database-url", url});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

std::string config_file(const std::string& text) {
  return scratch_file("ws.json", text);
}

long rss_kib(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

/// A server with a reviewer per name and a service token.
struct ws_service {
  std::string url = fresh_database("hitl_ws");
  std::string alice = make_token(url, "alice", "reviewer");
  std::string bob = make_token(url, "bob", "reviewer");
  std::string service = make_token(url, "wargaming", "service");
  served_hitl server;

  explicit ws_service(const std::vector<std::string>& args = {})
    : server(url, args) {
    // An upgrade is decided from the token cache, which the refresher
    // fills soon after the start; until then a token is unknown (401). The
    // wait offers the token without hitl.v1, refused (400) only once the
    // token is known, so that no connection is opened and counted.
    for (const auto* token : {&alice, &bob}) {
      auto deadline = steady::now() + patience;
      int status = 401;
      while (status == 401 && steady::now() < deadline) {
        raw_socket s{server.port()};
        status = handshake(s, {"Sec-WebSocket-Protocol: bearer." + *token})
                   .status;
        if (status == 401)
          std::this_thread::sleep_for(50ms);
      }
      REQUIRE(status == 400);
    }
  }

  /// An upgraded connection with the token in the Authorization header.
  std::unique_ptr<raw_socket> open(const std::string& token) {
    auto s = std::make_unique<raw_socket>(server.port());
    auto r = handshake(*s, {"Authorization: Bearer " + token});
    REQUIRE(r.status == 101);
    return s;
  }

  /// Whether a fresh connection still gets a pong for its ping.
  bool answers_pings() {
    auto s = open(alice);
    REQUIRE(s->send_all(client_frame(fin | op_ping, "still there?")));
    auto f = next_non_ping(*s, steady::now() + patience);
    return f.opcode == op_pong && f.payload == "still there?";
  }
};

/// Whether an upgrade with `token` gets `status` before long (asked again
/// while it does not).
bool status_within_patience(ws_service& svc, const std::string& token,
                            int status) {
  auto deadline = steady::now() + patience;
  while (steady::now() < deadline) {
    raw_socket s{svc.server.port()};
    if (handshake(s, {"Authorization: Bearer " + token}).status == status)
      return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

/// The close frame a misbehaving client gets, then the end of the
/// connection.
int closed_with(raw_socket& s) {
  auto deadline = steady::now() + patience;
  auto f = next_non_ping(s, deadline);
  REQUIRE(f.opcode == op_close);
  CHECK(s.wait_eof(deadline));
  return f.close_code();
}

std::string decision_body(const std::string& patch) {
  return json{{"decision_id", "dec-" + patch},
              {"patch_id", patch},
              {"patch_metadata",
               {{"apv_id", "apv-7"},
                {"cve_id", "CVE-2026-1234"},
                {"package_name", "openssl"},
                {"current_version", "3.0.1"},
                {"target_version", "3.0.2"},
                {"severity", "high"},
                {"cvss_score", 8.1}}},
              {"ml_prediction",
               {{"model_version", "xgb-7"},
                {"confidence", 0.5},
                {"prediction", true}}},
              {"wargaming_result",
               {{"phase1_success", true},
                {"phase2_success", true},
                {"validation_passed", true}}}}
    .dump();
}

} // namespace

TEST_CASE("websocket: frames declaring more than the limit are closed with "
          "1009 and allocate nothing") {
  ws_service svc;
  // Settled first: one client connected and served, so that what is
  // measured is the attack alone.
  REQUIRE(svc.answers_pings());
  auto before = rss_kib(svc.server.pid());
  REQUIRE(before > 0);
  for (uint64_t declared : {uint64_t{1} << 62, uint64_t{1} << 30,
                            uint64_t{65537}}) {
    CAPTURE(declared);
    auto s = svc.open(svc.alice);
    // The header alone, and a little of the payload it announces.
    REQUIRE(s->send_all(client_frame(fin | op_binary, "", declared)
                        + std::string(1000, 'x')));
    CHECK(closed_with(*s) == 1009);
  }
  auto after = rss_kib(svc.server.pid());
  MESSAGE("VmRSS before " << before << " KiB, after " << after << " KiB");
  // RESTinio's own reader would have zero-filled a 1 GiB buffer here.
  CHECK(after - before < 8 * 1024);
  CHECK(svc.answers_pings());
  CHECK(http_request("GET", svc.server.base_url() + "/health").status == 200);
}

TEST_CASE("websocket: a message of continuation frames adding up past the "
          "limit is closed with 1009") {
  ws_service svc;
  auto s = svc.open(svc.alice);
  // 1 KiB frames, 100 of them: the 65th crosses 64 KiB.
  std::string bytes = client_frame(op_text, std::string(1024, 'a'));
  for (int i = 1; i < 100; ++i)
    bytes += client_frame(op_continuation, std::string(1024, 'b'));
  REQUIRE(s->send_all(bytes));
  CHECK(closed_with(*s) == 1009);
  CHECK(svc.answers_pings());
}

TEST_CASE("websocket: pings get pongs, messages within the limit are taken, "
          "protocol errors are closed with 1002") {
  ws_service svc;
  auto s = svc.open(svc.alice);
  REQUIRE(s->send_all(client_frame(fin | op_ping, "p1")));
  auto pong = next_non_ping(*s, steady::now() + patience);
  CHECK(pong.opcode == op_pong);
  CHECK(pong.payload == "p1");
  // Exactly the limit, in two frames, with a ping between them: accepted
  // (and dropped: the stream is one-way), and the connection stays.
  REQUIRE(s->send_all(client_frame(op_text, std::string(30000, 'a'))
                      + client_frame(fin | op_ping, "between")
                      + client_frame(fin | op_continuation,
                                     std::string(65536 - 30000, 'b'))
                      + client_frame(fin | op_ping, "after")));
  // The server may answer both pings with one pong (for the latest).
  auto deadline = steady::now() + patience;
  server_frame f;
  do {
    f = next_non_ping(*s, deadline);
    REQUIRE(f.opcode == op_pong);
  } while (f.payload != "after");

  auto unmasked = svc.open(svc.alice);
  REQUIRE(unmasked->send_all(std::string("\x89\x00", 2)));
  CHECK(closed_with(*unmasked) == 1002);

  // A client's own close is answered with a close, then the end.
  REQUIRE(s->send_all(client_frame(fin | op_close, close_normal)));
  CHECK(closed_with(*s) == 1000);
}

TEST_CASE("websocket: clients beyond the total or one token's limit get 429 "
          "before the upgrade") {
  ws_service svc{{"--config",
                  config_file(R"({"limits":{"max_ws_clients":3,)"
                              R"("max_ws_clients_per_token":2}})")}};
  auto a1 = svc.open(svc.alice);
  auto a2 = svc.open(svc.alice);
  raw_socket a3{svc.server.port()};
  auto refused = handshake(a3, {"Authorization: Bearer " + svc.alice});
  CHECK(refused.status == 429);
  CHECK(refused.headers["content-type"] == "application/problem+json");
  CHECK(json::parse(refused.body)["status"] == 429);

  auto b1 = svc.open(svc.bob);
  raw_socket b2{svc.server.port()};
  auto full = handshake(b2, {"Authorization: Bearer " + svc.bob});
  CHECK(full.status == 429);
  CHECK(json::parse(full.body)["detail"].get<std::string>().find("3 clients")
        != std::string::npos);

  // A client that leaves frees its place.
  REQUIRE(a1->send_all(client_frame(fin | op_close, close_normal)));
  CHECK(closed_with(*a1) == 1000);
  CHECK(status_within_patience(svc, svc.bob, 101));
}

TEST_CASE("websocket: the handshake echoes hitl.v1 and never the token") {
  ws_service svc;
  {
    INFO("the token as the subprotocol beside hitl.v1 (a browser)");
    raw_socket s{svc.server.port()};
    auto r = handshake(s, {"Sec-WebSocket-Protocol: hitl.v1, bearer."
                           + svc.alice});
    CHECK(r.status == 101);
    CHECK(r.headers["sec-websocket-protocol"] == "hitl.v1");
    CHECK(r.head.find(svc.alice) == std::string::npos);
    REQUIRE(s.send_all(client_frame(fin | op_ping, "x")));
    CHECK(next_non_ping(s, steady::now() + patience).opcode == op_pong);
  }
  {
    INFO("the Authorization header with hitl.v1 offered");
    raw_socket s{svc.server.port()};
    auto r = handshake(s, {"Authorization: Bearer " + svc.alice,
                           "Sec-WebSocket-Protocol: hitl.v1"});
    CHECK(r.status == 101);
    CHECK(r.headers["sec-websocket-protocol"] == "hitl.v1");
  }
  {
    INFO("the Authorization header, no subprotocol: none echoed");
    raw_socket s{svc.server.port()};
    auto r = handshake(s, {"Authorization: Bearer " + svc.alice});
    CHECK(r.status == 101);
    CHECK(r.headers.count("sec-websocket-protocol") == 0);
  }
  {
    INFO("the token as the only subprotocol: 400, nothing echoed");
    raw_socket s{svc.server.port()};
    auto r = handshake(s, {"Sec-WebSocket-Protocol: bearer." + svc.alice});
    CHECK(r.status == 400);
    CHECK(r.head.find(svc.alice) == std::string::npos);
    CHECK(r.body.find(svc.alice) == std::string::npos);
  }
  {
    INFO("an unknown token: 401");
    raw_socket s{svc.server.port()};
    auto r =
      handshake(s, {"Sec-WebSocket-Protocol: hitl.v1, bearer.hitl_nope"});
    CHECK(r.status == 401);
  }
  {
    INFO("not an upgrade: 400, and the connection stays HTTP");
    auto r = http_request("GET", svc.server.base_url() + "/hitl/ws", {},
                          {"Authorization: Bearer " + svc.alice});
    CHECK(r.status == 400);
  }
}

TEST_CASE("websocket: revoking a token closes its connections (4401) while "
          "another token's stay open and keep receiving events") {
  ws_service svc;
  auto a1 = svc.open(svc.alice);
  raw_socket a2{svc.server.port()};
  REQUIRE(
    handshake(a2, {"Sec-WebSocket-Protocol: hitl.v1, bearer." + svc.alice})
      .status
    == 101);
  auto b = svc.open(svc.bob);

  auto revoked = run_hitl({"token", "revoke", "--name", "alice",
                           "--database-url", svc.url});
  REQUIRE(revoked.exit_code == 0);
  // The refresher reloads the active tokens every 2 s; `patience` is far
  // beyond that, so only a connection left open fails this.
  for (auto* s : {a1.get(), &a2}) {
    auto f = next_non_ping(*s, steady::now() + patience);
    REQUIRE(f.opcode == op_close);
    CHECK(f.close_code() == 4401);
    CHECK(f.payload.substr(2) == "token revoked or expired");
  }
  // Bob's stream still works: it answers and gets the next event.
  REQUIRE(http_request("POST",
                       svc.server.base_url() + "/hitl/admin/create-decision",
                       decision_body("ws-after-revoke"),
                       {"Authorization: Bearer " + svc.service,
                        "Content-Type: application/json"})
            .status
          == 201);
  auto event = next_non_ping(*b, steady::now() + patience);
  REQUIRE(event.opcode == op_text);
  auto doc = json::parse(event.payload);
  CHECK(doc["event"] == "decision.created");
  CHECK(doc["decision"]["patch_id"] == "ws-after-revoke");
  // And the revoked token cannot come back (once the token cache's entry,
  // a few seconds old at most, has gone).
  CHECK(status_within_patience(svc, svc.alice, 401));
}
