// The HTTP edge against the real binary (issue 17): client bytes in paths
// and query strings are checked before any actor is asked, every response
// carries the security headers, PostgreSQL's error text stays in the log,
// and the bounds of SPEC §10 on scans, failed authentications and
// long-polls answer 429. Requests with raw bytes go through a socket:
// curl would encode or refuse them.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <arpa/inet.h>
#include <chrono>
#include <future>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

using namespace hitl::test;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string make_token(const std::string& url, const std::string& name,
                       const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--database-url", url});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

std::string config_file(const json& doc) {
  return scratch_file("edge.json", doc.dump());
}

/// One request written byte for byte on its own connection. Reads are
/// bounded (30 s), so a server that never answers fails the test instead of
/// hanging it; status 0 then.
http_response raw_request(int port, const std::string& method,
                          const std::string& target,
                          const std::vector<std::string>& headers = {},
                          const std::string& body = {}) {
  http_response out;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + target
                    + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers)
    req += h + "\r\n";
  if (!body.empty() || method == "POST")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  for (size_t sent = 0; sent < req.size();) {
    auto n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<size_t>(n);
  }
  std::string in;
  char buf[8192];
  size_t want = std::string::npos; // bytes of the whole response, once known
  while (in.size() < want) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    in.append(buf, static_cast<size_t>(n));
    auto end = in.find("\r\n\r\n");
    if (want == std::string::npos && end != std::string::npos) {
      auto lower = in.substr(0, end);
      for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos)
        want = end + 4 + std::stoul(lower.substr(cl + 17));
    }
  }
  ::close(fd);
  auto end = in.find("\r\n\r\n");
  if (in.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos)
    return out;
  out.status = std::stol(in.substr(9, 3));
  size_t pos = in.find("\r\n") + 2;
  while (pos < end) {
    auto eol = in.find("\r\n", pos);
    auto line = in.substr(pos, eol - pos);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ')
        value.erase(0, 1);
      out.headers[name] = value;
    }
    pos = eol + 2;
  }
  out.body = in.substr(end + 4);
  return out;
}

/// The response is problem+json of `status` whose text is valid JSON.
/// A header's value, empty when absent.
std::string header(const http_response& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string{} : it->second;
}

void check_problem(const http_response& r, long status) {
  REQUIRE_MESSAGE(r.status != 0, "no answer"); // the first is enough
  CHECK(r.status == status);
  CHECK(header(r, "content-type") == "application/problem+json");
  auto doc = json::parse(r.body, nullptr, false);
  REQUIRE_MESSAGE(!doc.is_discarded(), "not JSON: " << r.body);
  CHECK(doc["status"] == status);
  CHECK(doc["detail"].is_string());
}

/// A valid body for each verdict route, as the issue's attack sends it.
std::string verdict_body(const std::string& target) {
  if (target.find("/reject") != std::string::npos)
    return R"({"decision_id":"x","reason":"r"})";
  if (target.find("/comment") != std::string::npos)
    return R"({"decision_id":"x","comment":"c"})";
  return R"({"decision_id":"x"})";
}

json record(const std::string& patch, const std::string& id = {}) {
  json r{{"patch_id", patch},
         {"patch_metadata",
          {{"apv_id", "apv-1"},
           {"package_name", "libxml2"},
           {"current_version", "2.9.1"},
           {"target_version", "2.9.2"},
           {"severity", "high"}}},
         {"ml_prediction", {{"confidence", 0.3}, {"prediction", true}}},
         {"wargaming_result",
          {{"phase1_success", true},
           {"phase2_success", true},
           {"validation_passed", true}}}};
  if (!id.empty())
    r["decision_id"] = id;
  return r;
}

struct edge_api {
  std::string url = fresh_database("hitl_edge");
  std::string service = make_token(url, "wargaming", "service");
  std::string reviewer = make_token(url, "alice", "reviewer");
  std::string auditor = make_token(url, "audrey", "auditor");
  served_hitl server;

  explicit edge_api(const std::vector<std::string>& args = {})
    : server(url, args) {
  }

  http_response call(const std::string& method, const std::string& path,
                     const std::string& token, const std::string& body = {}) {
    std::vector<std::string> headers;
    if (!token.empty())
      headers.push_back("Authorization: Bearer " + token);
    if (!body.empty())
      headers.push_back("Content-Type: application/json");
    return http_request(method, server.base_url() + path, body, headers);
  }

  http_response raw(const std::string& method, const std::string& target,
                    const std::string& token, const std::string& body = {}) {
    std::vector<std::string> headers;
    if (!token.empty())
      headers.push_back("Authorization: Bearer " + token);
    if (!body.empty())
      headers.push_back("Content-Type: application/json");
    return raw_request(server.port(), method, target, headers, body);
  }

  /// Rows of every table a request could change.
  std::string rows() const {
    return sql_scalar(url, "SELECT (SELECT count(*) FROM hitl_decisions) || '/'"
                           " || (SELECT count(*) FROM hitl_audit_logs) || '/'"
                           " || (SELECT count(*) FROM hitl_comments) || '/'"
                           " || (SELECT count(*) FROM hitl_approvals)");
  }

  /// The value of a metric line `name value`, or -1.
  double metric(const std::string& name) {
    auto text = call("GET", "/metrics", "").body;
    auto at = text.find("\n" + name + " ");
    return at == std::string::npos
             ? -1
             : std::stod(text.substr(at + name.size() + 2));
  }
};

/// Waits until `pred` holds, for at most `limit`; says whether it did.
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 30s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

/// Another session holds `table` (ACCESS EXCLUSIVE) until release() or the
/// end of the test: reads of it wait, deterministically.
class table_lock {
public:
  table_lock(const std::string& url, const std::string& table) {
    auto taken = std::make_shared<std::promise<void>>();
    auto ready = taken->get_future();
    auto released = release_.get_future().share();
    holder_ = std::thread([url, table, taken, released] {
      pqxx::connection conn{url};
      pqxx::work txn{conn};
      txn.exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
      taken->set_value();
      released.wait_for(120s); // bounded: a failing test must not hang
      txn.commit();
    });
    ready.wait();
  }
  ~table_lock() {
    release();
  }
  void release() {
    if (holder_.joinable()) {
      release_.set_value();
      holder_.join();
    }
  }

private:
  std::promise<void> release_;
  std::thread holder_;
};

/// Sessions of `url`'s database waiting for a lock.
int lock_waiters(const std::string& url) {
  return std::stoi(sql_scalar(
    url, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
         "current_database() AND wait_event_type = 'Lock'"));
}

} // namespace

// -- client bytes at the edge ---------------------------------------------------

TEST_CASE("http edge: the four-request attack leaves the write path working") {
  edge_api a;
  // The attack of issue 17, raw and percent-encoded, four times each, on
  // every route that takes an id.
  const std::vector<std::string> targets = {
    "/hitl/patches/a\xFF/approve",   "/hitl/patches/a%FF/approve",
    "/hitl/patches/a\xFF/reject",    "/hitl/patches/a%FF/comment",
    "/hitl/patches/a\xFF%FE/cancel", "/hitl/decisions/a\xFF",
    "/hitl/decisions/a%FF",
  };
  for (const auto& target : targets)
    for (int i = 0; i < 4; ++i) {
      CAPTURE(target);
      bool read = target.rfind("/hitl/decisions/", 0) == 0;
      bool cancel = target.find("/cancel") != std::string::npos;
      auto r = a.raw(read ? "GET" : "POST", target,
                     cancel || read ? a.service : a.reviewer,
                     read ? "" : verdict_body(target));
      check_problem(r, 404);
      // The bytes are echoed escaped, never raw.
      CHECK(r.body.find('\xFF') == std::string::npos);
    }
  auto created = a.call("POST", "/hitl/admin/create-decision", a.service,
                        record("after-attack", "dec-after").dump());
  REQUIRE(created.status == 201);
  auto approved = a.call("POST", "/hitl/patches/after-attack/approve",
                         a.reviewer, "{}");
  REQUIRE(approved.status == 200);
  CHECK(json::parse(approved.body)["decision"] == "approved");
  CHECK(a.server.log().find("type_error") == std::string::npos);
}

TEST_CASE("http edge: a bad path parameter is 404 problem+json and changes "
          "nothing") {
  edge_api a;
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("p-open", "dec-open").dump())
            .status
          == 201);
  auto before = a.rows();
  const std::vector<std::string> bad_patches = {
    "a%FF",       "a\xFF",     "a%C0%AF", "a%ED%A0%80", "a%E2%82",
    "a%00",       "a%01",      "a%0A",    "a%7F",       "a%C2%85",
    "%20",        "a%",        "a%zz",    std::string(256, 'p'),
  };
  for (const auto& patch : bad_patches)
    for (const char* verb : {"approve", "reject", "comment", "cancel"}) {
      CAPTURE(patch);
      CAPTURE(verb);
      bool cancel = std::string{verb} == "cancel";
      auto target = "/hitl/patches/" + patch + "/" + verb;
      check_problem(a.raw("POST", target, cancel ? a.service : a.reviewer,
                          verdict_body(target)),
                    404);
    }
  const std::vector<std::string> bad_decisions = {
    "a%FF", "a\xFF", "a%20b", "caf%C3%A9", "a%00", std::string(256, 'd'),
  };
  for (const auto& id : bad_decisions)
    for (const char* query : {"", "?wait=5"}) {
      CAPTURE(id);
      check_problem(a.raw("GET", "/hitl/decisions/" + id + query, a.service),
                    404);
    }
  // The web UI's file names, and paths no route knows.
  for (const char* path :
       {"/assets/a%01.js", "/assets/a\xFF.js", "/a%0A", "/%FF", "/x/%C0%AF/y"}) {
    CAPTURE(path);
    check_problem(a.raw("GET", path, ""), 404);
  }
  CHECK(a.rows() == before);
  CHECK(json::parse(a.call("GET", "/hitl/decisions/dec-open", a.service).body)
          ["decision"]
        == "pending");
}

TEST_CASE("http edge: a patch id is percent-decoded from the path") {
  edge_api a;
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("my patch/1 \xC3\xA9", "dec-enc").dump())
            .status
          == 201);
  auto approved = a.call("POST", "/hitl/patches/my%20patch%2F1%20%C3%A9/approve",
                         a.reviewer, "{}");
  CHECK(approved.status == 200);
  CHECK(json::parse(approved.body)["decided_by"] == "alice");
}

TEST_CASE("http edge: a bad query value is 400 problem+json and changes "
          "nothing") {
  edge_api a;
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("p-q", "dec-q").dump())
            .status
          == 201);
  auto before = a.rows();
  const std::vector<std::pair<std::string, std::string>> bad = {
    {"/hitl/patches/pending?cursor=%01", a.reviewer},
    {"/hitl/patches/pending?priority=high%7F", a.reviewer},
    {"/hitl/patches/pending?sort=%FF", a.reviewer},
    {"/hitl/patches/pending?sort=a\xFF", a.reviewer},
    {"/hitl/patches/pending?limit=1%00", a.reviewer},
    {"/hitl/patches/pending?cursor=" + std::string(3000, 'c'), a.reviewer},
    {"/hitl/analytics/audit-logs?performed_by=%C2%85", a.auditor},
    {"/hitl/analytics/audit-logs?decision_id=d%0A", a.auditor},
    {"/hitl/analytics/audit-logs?performed_by=%E2%82", a.auditor},
    {"/hitl/analytics/summary?since=%FF", a.auditor},
    {"/hitl/analytics/summary?until=2026%0A", a.auditor},
    {"/hitl/decisions/dec-q?wait=1%00", a.service},
    {"/hitl/decisions/dec-q?wait=%1B", a.service},
  };
  for (const auto& [target, token] : bad) {
    CAPTURE(target.substr(0, 80));
    auto r = a.raw("GET", target, token);
    check_problem(r, 400);
  }
  CHECK(a.rows() == before);
}

// -- headers ---------------------------------------------------------------------

TEST_CASE("http edge: every response carries CSP, nosniff and no-referrer") {
  edge_api a;
  const std::string csp = "default-src 'self'; script-src 'self'; "
                          "style-src 'self'; img-src 'self' data:; "
                          "connect-src 'self'; object-src 'none'; "
                          "frame-ancestors 'none'; base-uri 'none'; "
                          "form-action 'self'";
  auto check_headers = [&](const http_response& r) {
    CHECK(r.status != 0);
    CHECK(header(r, "content-security-policy") == csp);
    CHECK(header(r, "x-content-type-options") == "nosniff");
    CHECK(header(r, "referrer-policy") == "no-referrer");
  };
  struct probe {
    std::string method, path, token, body;
    long status;
  };
  const std::vector<probe> probes = {
    {"POST", "/hitl/admin/create-decision", a.service,
     record("p-h", "dec-h").dump(), 201},
    {"GET", "/hitl/decisions/dec-h", a.service, "", 200},
    {"GET", "/hitl/patches/pending", a.reviewer, "", 200},
    {"GET", "/hitl/patches/pending", "", "", 401},
    {"GET", "/hitl/analytics/summary", a.service, "", 403},
    {"GET", "/hitl/decisions/nope", a.service, "", 404},
    {"GET", "/nothing/here", "", "", 404},
    {"DELETE", "/hitl/patches/pending", a.reviewer, "", 405},
    {"OPTIONS", "/hitl/patches/pending", "", "", 204},
    {"POST", "/hitl/admin/create-decision", a.service, "{", 400},
    {"GET", "/health", "", "", 200},
    {"GET", "/metrics", "", "", 200},
    {"GET", "/openapi.json", "", "", 200},
  };
  for (const auto& p : probes) {
    CAPTURE(p.method + " " + p.path);
    auto r = a.call(p.method, p.path, p.token, p.body);
    CHECK(r.status == p.status);
    check_headers(r);
  }
  // The web UI (or, in a build without it, the page that says so).
  auto ui = a.call("GET", "/", "");
  CHECK((ui.status == 200 || ui.status == 503));
  check_headers(ui);
}

// -- PostgreSQL's text stays in the log -------------------------------------------

TEST_CASE("http edge: a conflict the database finds is answered without its "
          "text") {
  // Another writer (a node since gone) left an open decision for the patch
  // after this node loaded the open ones: the node does not know it, so
  // only PostgreSQL's unique index refuses the new one.
  auto url = fresh_database("hitl_edge_pg");
  auto service = make_token(url, "wargaming", "service");
  served_hitl node{url};
  sql_exec(url, R"(
    INSERT INTO hitl_decisions (decision_id, patch_id, apv_id, package_name,
      current_version, target_version, severity, priority, policy_version,
      content_hash, created_by, sla_deadline)
    VALUES ('dec-first', 'p-twice', 'a', 'openssl', '1', '2', 'high', 'high',
      '1.x', repeat('a', 64), 'svc', now() + interval '1 hour'))");
  auto refused =
    http_request("POST", node.base_url() + "/hitl/admin/create-decision",
                 record("p-twice", "dec-second").dump(),
                 {"Authorization: Bearer " + service,
                  "Content-Type: application/json"});
  check_problem(refused, 409);
  for (const char* leak : {"hitl_decisions_one_open_per_patch", "duplicate key",
                           "violates", "ERROR", "DETAIL", "Key (", "INSERT",
                           "p-twice"}) {
    CAPTURE(leak);
    CHECK(refused.body.find(leak) == std::string::npos);
  }
  // The operator still finds what PostgreSQL said.
  CHECK(eventually([&] {
    return node.log().find("hitl_decisions_one_open_per_patch")
           != std::string::npos;
  }));
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions") == "1");
}

// -- the bounds of SPEC §10 -------------------------------------------------------

TEST_CASE("http edge: failed authentications from one address are 429 "
          "without asking the database") {
  edge_api a{{"--config", config_file({{"limits",
                                        {{"max_auth_failures", 3},
                                         {"auth_failure_window_seconds",
                                          600}}}})}};
  REQUIRE(a.call("GET", "/hitl/patches/pending", a.reviewer).status == 200);
  for (int i = 0; i < 3; ++i)
    CHECK(a.call("GET", "/hitl/patches/pending",
                 "hitl_random_" + std::to_string(i))
            .status
          == 401);
  // From now on an unknown token is refused before it is looked up: with
  // the token table locked, a lookup would wait for the lock.
  {
    table_lock held{a.url, "hitl_api_tokens"};
    for (const auto& token : {"hitl_random_x", "hitl_random_z"}) {
      auto r = a.call("GET", "/hitl/patches/pending", token);
      check_problem(r, 429);
      REQUIRE(r.headers.count("retry-after") == 1);
      auto wait = std::stol(r.headers["retry-after"]);
      CHECK(wait >= 1);
      CHECK(wait <= 600);
    }
  }
  // A token known to be valid still passes (its cache entry is refreshed
  // every 2 s; a slow machine may need a moment).
  CHECK(eventually([&] {
    return a.call("GET", "/hitl/patches/pending", a.reviewer).status == 200;
  }));
  CHECK(a.call("GET", "/hitl/patches/pending", "hitl_random_y").status == 429);
  // No token at all costs no lookup: still a plain 401.
  CHECK(a.call("GET", "/hitl/patches/pending", "").status == 401);
}

TEST_CASE("http edge: long-polls beyond the limit per token are 429") {
  edge_api a{{"--config",
              config_file({{"limits", {{"max_long_polls_per_token", 2}}}})}};
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("p-poll", "dec-poll").dump())
            .status
          == 201);
  auto poll = [&] {
    return a.call("GET", "/hitl/decisions/dec-poll?wait=60", a.service);
  };
  auto first = std::async(std::launch::async, poll);
  auto second = std::async(std::launch::async, poll);
  REQUIRE(eventually([&] { return a.metric("hitl_http_long_polls") == 2; }));
  auto third = poll();
  check_problem(third, 429);
  // Another token has its own places; a plain read needs none.
  CHECK(a.call("GET", "/hitl/decisions/dec-poll?wait=1", a.reviewer).status
        == 200);
  CHECK(a.call("GET", "/hitl/decisions/dec-poll", a.service).status == 200);
  // The verdict ends both polls; their places are given back.
  REQUIRE(a.call("POST", "/hitl/patches/p-poll/approve", a.reviewer, "{}")
            .status
          == 200);
  for (auto* f : {&first, &second}) {
    REQUIRE(f->wait_for(30s) == std::future_status::ready);
    auto r = f->get();
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["decision"] == "approved");
  }
  CHECK(eventually([&] { return a.metric("hitl_http_long_polls") == 0; }));
  CHECK(a.call("GET", "/hitl/decisions/dec-poll?wait=5", a.service).status
        == 200);
}

TEST_CASE("http edge: one audit verification at a time, its result reused, "
          "429 with Retry-After beyond") {
  edge_api a{{"--config",
              config_file({{"limits",
                            {{"max_concurrent_scans", 1},
                             {"scan_result_reuse_seconds", 600}}}})}};
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("p-v1", "dec-v1").dump())
            .status
          == 201);
  auto verify = [&] { return a.call("GET", "/hitl/audit/verify", a.auditor); };
  std::future<http_response> running;
  {
    // The scan reads the audit log, which another session holds.
    table_lock held{a.url, "hitl_audit_logs"};
    running = std::async(std::launch::async, verify);
    REQUIRE(eventually([&] { return lock_waiters(a.url) >= 1; }));
    auto refused = verify();
    check_problem(refused, 429);
    CHECK(refused.headers["retry-after"] == "600");
    // The limit is per kind: the summary is another scan.
    CHECK(a.call("GET", "/hitl/analytics/summary", a.auditor).status == 200);
  }
  REQUIRE(running.wait_for(60s) == std::future_status::ready);
  auto first = running.get();
  REQUIRE(first.status == 200);
  // The three tokens' token_created entries, then the creation.
  CHECK(json::parse(first.body)["checked"] == 4);
  // A change since, and the result is still the one kept.
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("p-v2", "dec-v2").dump())
            .status
          == 201);
  auto again = verify();
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
}

TEST_CASE("http edge: one summary scan at a time; a result is reused for the "
          "same query only") {
  edge_api a{{"--config",
              config_file({{"limits",
                            {{"max_concurrent_scans", 1},
                             {"scan_result_reuse_seconds", 600}}}})}};
  auto summary = [&](const std::string& query) {
    return a.call("GET", "/hitl/analytics/summary" + query, a.auditor);
  };
  auto first = summary("");
  REQUIRE(first.status == 200);
  CHECK(json::parse(first.body)["total_patches"] == 0);
  REQUIRE(a.call("POST", "/hitl/admin/create-decision", a.service,
                 record("p-s", "dec-s").dump())
            .status
          == 201);
  CHECK(summary("").body == first.body); // kept
  auto other = summary("?since=2020-01-01T00%3A00%3A00Z");
  REQUIRE(other.status == 200); // another query is scanned
  CHECK(json::parse(other.body)["total_patches"] == 1);
  std::future<http_response> running;
  {
    table_lock held{a.url, "hitl_decisions"};
    running = std::async(std::launch::async, summary,
                         "?since=2021-01-01T00%3A00%3A00Z");
    REQUIRE(eventually([&] { return lock_waiters(a.url) >= 1; }));
    auto refused = summary("?since=2022-01-01T00%3A00%3A00Z");
    check_problem(refused, 429);
    CHECK(refused.headers["retry-after"] == "600");
    CHECK(summary("").body == first.body); // a kept result needs no place
  }
  REQUIRE(running.wait_for(60s) == std::future_status::ready);
  CHECK(running.get().status == 200);
}
