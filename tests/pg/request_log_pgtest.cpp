// Logs and request ids against the real binary (issue 22 §5): with
// --log-format json every line of the log is a JSON object and every
// answered request has an access line with its id, route template, status,
// duration, identity and decision; every answer, errors and the edge's
// refusals included, carries X-Request-Id, the client's when sane.

#include "tests/pg/pg_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex>
#include <sstream>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

using namespace hitl::test;
using json = nlohmann::json;

namespace {

const std::regex generated_id{"[0-9a-f]{8}-[0-9a-f]+"};

/// Every line of the log as JSON; a line that is not an object fails.
std::vector<json> json_lines(const std::string& log) {
  std::vector<json> out;
  std::istringstream in{log};
  std::string line;
  while (std::getline(in, line)) {
    auto doc = json::parse(line, nullptr, false);
    INFO("log line: " << line);
    REQUIRE(doc.is_object());
    out.push_back(std::move(doc));
  }
  return out;
}

/// The access line of `request_id`, once the log has it (lines are flushed
/// within a second); null when it never comes.
json access_line(const served_hitl& s, const std::string& request_id) {
  json found;
  eventually([&] {
    for (auto& line : json_lines(s.log()))
      if (line.value("msg", "") == "access"
          && line.value("request_id", "") == request_id) {
        found = line;
        return true;
      }
    return false;
  });
  return found;
}

std::string create_body(const std::string& decision_id) {
  return R"({"decision_id":")" + decision_id + R"(","patch_id":"p-)"
         + decision_id
         + R"(","patch_metadata":{"apv_id":"apv-1","cve_id":"CVE-2026-7777",)"
           R"("package_name":"nginx","current_version":"1.24.0",)"
           R"("target_version":"1.24.1","severity":"medium"},)"
           R"("ml_prediction":{"confidence":0.5,"prediction":true}})";
}

/// A request written as it is on its own connection, for what curl would
/// not send; the answer's head and body, read until the server closes or
/// 30 s pass.
std::string raw_exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr)
          == 0);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL)
          == static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos
        && out.find("Connection: close") == std::string::npos)
      break; // kept alive: the head is enough here
  }
  ::close(fd);
  return out;
}

} // namespace

TEST_CASE("--log-format json: every line is an object; access lines carry "
          "the request's id, route, status, identity and decision") {
  auto url = fresh_database("hitl_logs");
  served_hitl s{url, {"--log-format", "json"}};
  auto token = issue_token(url, "wargaming-logs", "service");
  auto auth = "Authorization: Bearer " + token;

  // A create: 201, the client's id echoed, the decision named.
  auto created = http_request("POST",
                              s.base_url() + "/hitl/admin/create-decision",
                              create_body("dec-logs-1"),
                              {auth, "Content-Type: application/json",
                               "X-Request-Id: create-1"});
  REQUIRE(created.status == 201);
  CHECK(created.headers["x-request-id"] == "create-1");
  auto line = access_line(s, "create-1");
  REQUIRE_MESSAGE(line.is_object(), s.log());
  CHECK(line["level"] == "info");
  CHECK(line["method"] == "POST");
  CHECK(line["route"] == "/hitl/admin/create-decision");
  CHECK(line["status"] == 201);
  CHECK(line["decision_id"] == "dec-logs-1");
  CHECK(line["identity"] == "wargaming-logs");
  CHECK(line["role"] == "service");
  CHECK(line["remote"] == "127.0.0.1");
  CHECK(line["duration_ms"].is_number());
  CHECK(line["duration_ms"].get<double>() >= 0);
  const std::regex rfc3339_ms{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"};
  CHECK(std::regex_match(line["ts"].get<std::string>(), rfc3339_ms));
  CHECK_FALSE(line.dump().find(token) != std::string::npos);

  // A 404 without an id of the client's: one is made, sent back in the
  // header and the problem document, and logged under the route template.
  auto missing = http_request("GET", s.base_url() + "/hitl/decisions/dec-none",
                              {}, {auth});
  REQUIRE(missing.status == 404);
  auto id404 = missing.headers["x-request-id"];
  CHECK(std::regex_match(id404, generated_id));
  CHECK(json::parse(missing.body)["request_id"] == id404);
  line = access_line(s, id404);
  REQUIRE_MESSAGE(line.is_object(), s.log());
  CHECK(line["route"] == "/hitl/decisions/{decision_id}");
  CHECK(line["status"] == 404);
  CHECK(line["decision_id"] == "dec-none");
  CHECK(line["identity"] == "wargaming-logs");

  // A 401: no identity in the line.
  auto anonymous = http_request("GET",
                                s.base_url() + "/hitl/decisions/dec-logs-1",
                                {}, {"X-Request-Id: anon-1"});
  REQUIRE(anonymous.status == 401);
  CHECK(anonymous.headers["x-request-id"] == "anon-1");
  CHECK(json::parse(anonymous.body)["request_id"] == "anon-1");
  line = access_line(s, "anon-1");
  REQUIRE_MESSAGE(line.is_object(), s.log());
  CHECK(line["status"] == 401);
  CHECK_FALSE(line.contains("identity"));
  CHECK_FALSE(line.contains("role"));

  // 405 and an unknown path: ids too, the unknown path's route bounded.
  auto not_allowed = http_request("DELETE", s.base_url() + "/health", {},
                                  {"X-Request-Id: del-1"});
  CHECK(not_allowed.status == 405);
  CHECK(not_allowed.headers["x-request-id"] == "del-1");
  auto unknown = http_request("GET", s.base_url() + "/no/such/path", {},
                              {"X-Request-Id: nowhere-1"});
  CHECK(unknown.status == 404);
  CHECK(unknown.headers["x-request-id"] == "nowhere-1");
  line = access_line(s, "nowhere-1");
  REQUIRE_MESSAGE(line.is_object(), s.log());
  CHECK(line["route"] == "unmatched");

  // Refused at the edge, before routing: a body over max_body_bytes.
  auto refused = raw_exchange(
    s.port(), "POST /hitl/admin/create-decision HTTP/1.1\r\nHost: x\r\n"
              "X-Request-Id: big-1\r\nContent-Type: application/json\r\n"
              "Content-Length: 100000000\r\n\r\n");
  CHECK(refused.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(refused.find("X-Request-Id: big-1\r\n") != std::string::npos);
  CHECK(refused.find(R"("request_id":"big-1")") != std::string::npos);

  // Every line, not only access lines: startup is an object too.
  bool startup = false;
  for (auto& l : json_lines(s.log())) {
    CHECK(l.contains("ts"));
    CHECK(l.contains("level"));
    CHECK(l.contains("msg"));
    startup = startup
              || l.value("msg", "").rfind("serving on http://", 0) == 0;
  }
  CHECK(startup);
}

// (A DEL or another control byte other than a tab ends the request in
// http_parser, before any of this: the connection is closed unanswered.)
TEST_CASE("a hostile X-Request-Id is replaced, never echoed nor logged") {
  auto url = fresh_database("hitl_logs");
  served_hitl s{url, {"--log-format", "json"}};
  for (std::string hostile :
       {std::string{"has space"}, std::string(129, 'a'),
        std::string{"caf\xc3\xa9"}, std::string{"tab\there"},
        std::string{"quote\"brace}"} + std::string(200, 'z')}) {
    CAPTURE(hostile);
    auto r = raw_exchange(s.port(), "GET /health HTTP/1.1\r\nHost: x\r\n"
                                    "X-Request-Id: " + hostile + "\r\n\r\n");
    REQUIRE(r.rfind("HTTP/1.1 200", 0) == 0);
    auto at = r.find("X-Request-Id: ");
    REQUIRE(at != std::string::npos);
    auto id = r.substr(at + 14, r.find("\r\n", at) - at - 14);
    CHECK(std::regex_match(id, generated_id));
    auto line = access_line(s, id);
    REQUIRE_MESSAGE(line.is_object(), s.log());
    CHECK(line["route"] == "/health");
    CHECK(s.log().find(hostile) == std::string::npos);
  }
  // The sanest one is taken as it is, at the longest allowed.
  std::string longest(128, 'k');
  auto r = http_request("GET", s.base_url() + "/health", {},
                        {"X-Request-Id: " + longest});
  CHECK(r.headers["x-request-id"] == longest);
}

TEST_CASE("text log: an access line per request unless --access-log off; "
          "the id is returned either way") {
  auto url = fresh_database("hitl_logs");
  {
    served_hitl s{url};
    auto r = http_request("GET", s.base_url() + "/health", {},
                          {"X-Request-Id: text-1"});
    CHECK(r.headers["x-request-id"] == "text-1");
    CHECK_MESSAGE(eventually([&] {
                    return s.log().find("GET /health 200 ") != std::string::npos
                           && s.log().find(" request=text-1 from 127.0.0.1")
                                != std::string::npos;
                  }),
                  s.log());
  }
  served_hitl s{url, {"--access-log", "off"}};
  auto r = http_request("GET", s.base_url() + "/health", {},
                        {"X-Request-Id: off-1"});
  CHECK(r.status == 200);
  CHECK(r.headers["x-request-id"] == "off-1");
  // After the stop the log is complete (flushed at exit).
  REQUIRE(s.terminate(std::chrono::seconds(30)) == 0);
  CHECK(s.log().find("signal 15: shutting down") != std::string::npos);
  CHECK(s.log().find("off-1") == std::string::npos);
  CHECK(s.log().find("GET /health 200") == std::string::npos);
}

TEST_CASE("serve refuses an unknown --log-format or --access-log value") {
  auto url = fresh_database("hitl_logs");
  for (auto args : {std::vector<std::string>{"--log-format", "xml"},
                    std::vector<std::string>{"--access-log", "maybe"}}) {
    std::vector<std::string> cmd{"serve", "--listen", "127.0.0.1:1",
                                 "--database-url", url};
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = run_hitl(cmd);
    CHECK(r.exit_code != 0);
    CHECK((r.err + r.out).find(args[0]) != std::string::npos);
  }
}
