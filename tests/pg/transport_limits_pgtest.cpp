// The transport's bounds (SPEC §10: connections, request line, header
// fields, body size, header and body times) against the real `hitl serve`,
// over raw TCP so that the tests choose exactly which bytes are sent and
// when. Every socket operation has a deadline; verdicts wait for a condition
// with a generous one, never for a speed.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace hitl::test;
using namespace std::chrono_literals;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

/// How long any awaited event may take: a busy machine is late, not wrong.
constexpr auto patience = std::chrono::duration_cast<steady::duration>(10s);

// Limits small enough to reach with a few bytes and seconds.
constexpr size_t target_max = 256;
constexpr size_t field_max = 256;
constexpr size_t fields_max = 1024;
constexpr size_t field_count_max = 8;
constexpr size_t body_max = 1024;
constexpr auto header_timeout = 1s;
constexpr auto body_timeout = 5s;

json small_limits() {
  return {{"max_request_line_bytes", target_max},
          {"max_header_bytes", field_max},
          {"max_headers_total_bytes", fields_max},
          {"max_header_count", field_count_max},
          {"header_timeout_seconds", header_timeout.count()},
          {"body_timeout_seconds", body_timeout.count()}};
}

std::string write_config(const json& cfg) {
  return scratch_file("transport.json", cfg.dump(2));
}

/// `hitl serve` with the given limits and max_body_bytes = body_max.
struct edge_server {
  std::string url = fresh_database("hitl_edge");
  served_hitl server;

  explicit edge_server(const json& limits)
    : server(url, {"--config", write_config({{"max_body_bytes", body_max},
                                              {"limits", limits}})}) {
  }

  int port() const {
    return server.port();
  }

  /// A normal request on a new connection is still answered.
  void still_serves() const {
    CHECK(http_request("GET", server.base_url() + "/openapi.json").status
          == 200);
  }
};

struct raw_response {
  int status = 0;
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
};

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// A client connection to 127.0.0.1 whose every operation has a deadline.
class raw_client {
public:
  explicit raw_client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      REQUIRE(errno == EINPROGRESS);
      REQUIRE(wait_for(POLLOUT, steady::now() + patience));
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
      REQUIRE(err == 0);
    }
  }
  ~raw_client() {
    close();
  }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  /// Sends all of `data`; false when the server has closed the connection.
  bool send(std::string_view data) {
    auto deadline = steady::now() + patience;
    while (!data.empty()) {
      auto n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!wait_for(POLLOUT, deadline))
          return false;
      } else {
        return false;
      }
    }
    return true;
  }

  /// True when bytes, or the end of the connection, arrive within `t`.
  bool readable_within(steady::duration t) {
    return !buf_.empty() || wait_for(POLLIN, steady::now() + t);
  }

  /// The next response (status line, fields, and the body its
  /// Content-Length gives), or nothing if the connection ends first or
  /// `t` passes.
  std::optional<raw_response> response(steady::duration t = patience) {
    auto deadline = steady::now() + t;
    size_t end = 0;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (fill(deadline) <= 0)
        return std::nullopt;
    raw_response r;
    auto head = buf_.substr(0, end + 2);
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12)
      return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    for (auto pos = line_end + 2; pos < head.size();) {
      auto next = head.find("\r\n", pos);
      auto line = head.substr(pos, next - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.erase(0, 1);
        r.headers[lower(line.substr(0, colon))] = value;
      }
      pos = next + 2;
    }
    size_t length = r.headers.count("content-length")
                      ? std::stoul(r.headers["content-length"])
                      : 0;
    while (buf_.size() < end + 4 + length)
      if (fill(deadline) <= 0)
        return std::nullopt;
    r.body = buf_.substr(end + 4, length);
    buf_.erase(0, end + 4 + length);
    return r;
  }

  /// True when the server ends the connection (close or reset) within `t`;
  /// bytes before the end are discarded.
  bool closed_within(steady::duration t) {
    auto deadline = steady::now() + t;
    for (;;) {
      int got = fill(deadline);
      if (got == 0 || got == -1)
        return true;
      if (got == -2)
        return false;
      buf_.clear();
    }
  }

private:
  bool wait_for(short events, steady::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - steady::now());
      pollfd p{fd_, events, 0};
      auto ms = static_cast<int>(std::max<int64_t>(left.count(), 0));
      int rc = ::poll(&p, 1, ms);
      if (rc > 0)
        return true;
      if (rc == 0 || errno != EINTR)
        return false;
    }
  }

  /// 1: bytes appended; 0: end of stream; -1: reset; -2: deadline.
  int fill(steady::time_point deadline) {
    for (;;) {
      if (!wait_for(POLLIN, deadline))
        return -2;
      char chunk[16384];
      auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return 1;
      }
      if (n == 0)
        return 0;
      if (errno != EAGAIN && errno != EINTR)
        return -1;
    }
  }

  int fd_ = -1;
  std::string buf_;
};

std::string get(const std::string& target, const std::string& fields = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields
         + "\r\n";
}

std::string post_head(const std::string& fields) {
  return "POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Content-Type: application/json\r\n"
         + fields + "\r\n";
}

/// A refusal: problem+json with the status, and the connection closed.
void check_refusal(raw_client& c, int status, const std::string& detail) {
  auto r = c.response();
  REQUIRE(r);
  CHECK(r->status == status);
  CHECK(r->headers["content-type"] == "application/problem+json");
  CHECK(lower(r->headers["connection"]) == "close");
  auto body = json::parse(r->body);
  CHECK(body["status"] == status);
  CHECK(body["detail"].get<std::string>().find(detail) != std::string::npos);
  CHECK(c.closed_within(patience));
}

/// The status of one request on a new connection.
int status_of(int port, const std::string& request) {
  raw_client c{port};
  REQUIRE(c.send(request));
  auto r = c.response();
  REQUIRE(r);
  return r->status;
}

std::string fields_of(size_t count, size_t value_bytes) {
  std::string out;
  for (size_t i = 0; i < count; ++i)
    out += "X-Pad-" + std::to_string(i) + ": " + std::string(value_bytes, 'v')
           + "\r\n";
  return out;
}

} // namespace

TEST_CASE("transport: a request target over the limit is answered 414") {
  edge_server s{small_limits()};
  std::string path = "/nowhere/";
  path += std::string(target_max - path.size(), 'a');
  // At the limit it is routed: no such route.
  CHECK(status_of(s.port(), get(path)) == 404);
  {
    raw_client c{s.port()};
    REQUIRE(c.send(get(path + "a")));
    check_refusal(c, 414, "longer than 256 bytes");
  }
  {
    // Behind a request that is served, on the same connection.
    raw_client c{s.port()};
    REQUIRE(c.send(get("/openapi.json") + get(path + "a")));
    auto first = c.response();
    REQUIRE(first);
    CHECK(first->status == 200);
    check_refusal(c, 414, "longer than 256 bytes");
  }
  {
    // Far over, yet within the backstop (twice the limits).
    raw_client c{s.port()};
    REQUIRE(c.send(get(path + std::string(1200, 'a'))));
    check_refusal(c, 414, "request target");
  }
  {
    // Beyond the backstop the connection is closed without an answer.
    raw_client c{s.port()};
    c.send(get(path + std::string(20000, 'a')));
    CHECK_FALSE(c.response());
    CHECK(c.closed_within(patience));
  }
  s.still_serves();
}

TEST_CASE("transport: header fields over the limits are answered 431") {
  edge_server s{small_limits()};
  // One field of name and value: "X-Pad-0: " is 7 bytes of name.
  CHECK(status_of(s.port(), get("/openapi.json", fields_of(1, field_max - 7)))
        == 200);
  {
    raw_client c{s.port()};
    REQUIRE(c.send(get("/openapi.json", fields_of(1, field_max - 6))));
    check_refusal(c, 431, "a header field (name and value) is longer than 256");
  }
  {
    // A name alone over the limit.
    raw_client c{s.port()};
    REQUIRE(c.send(get("/openapi.json",
                       "X-" + std::string(field_max, 'n') + ": v\r\n")));
    check_refusal(c, 431, "a header field");
  }
  // All fields: Host (13 bytes) and four, then five, of 207 each.
  CHECK(status_of(s.port(), get("/openapi.json", fields_of(4, 200))) == 200);
  {
    raw_client c{s.port()};
    REQUIRE(c.send(get("/openapi.json", fields_of(5, 200))));
    check_refusal(c, 431, "longer than 1024 bytes in all");
  }
  // Their number: Host and seven more are allowed, not eight.
  CHECK(status_of(s.port(),
                  get("/openapi.json", fields_of(field_count_max - 1, 1)))
        == 200);
  {
    raw_client c{s.port()};
    REQUIRE(c.send(get("/openapi.json", fields_of(field_count_max, 1))));
    check_refusal(c, 431, "more than 8 header fields");
  }
  {
    // A refused upgrade request is answered like any other.
    raw_client c{s.port()};
    REQUIRE(c.send(get("/hitl/events",
                       "Connection: Upgrade\r\nUpgrade: websocket\r\n"
                       "Sec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       + fields_of(1, field_max))));
    check_refusal(c, 431, "a header field");
  }
  s.still_serves();
}

TEST_CASE("transport: a Content-Length over max_body_bytes is answered 413 "
          "before the body is sent") {
  edge_server s{small_limits()};
  // The answer comes although not one byte of the body was sent.
  for (std::string length : {"1025", "1000000000000000"}) {
    CAPTURE(length);
    raw_client c{s.port()};
    REQUIRE(c.send(post_head("Content-Length: " + length + "\r\n")));
    check_refusal(c, 413, "larger than 1024 bytes");
  }
  // At the limit the body is read and the request routed.
  CHECK(status_of(s.port(), post_head("Content-Length: 1024\r\n")
                              + std::string(body_max, ' '))
        == 404);
  s.still_serves();
}

TEST_CASE("transport: a chunked body growing past max_body_bytes is "
          "answered 413") {
  edge_server s{small_limits()};
  auto chunked = post_head("Transfer-Encoding: chunked\r\n");
  // At the limit, in two chunks: routed.
  CHECK(status_of(s.port(), chunked + "200\r\n" + std::string(512, ' ')
                              + "\r\n200\r\n" + std::string(512, ' ')
                              + "\r\n0\r\n\r\n")
        == 404);
  {
    // The chunk that would pass the limit is refused from its size line.
    raw_client c{s.port()};
    REQUIRE(c.send(chunked + "400\r\n" + std::string(body_max, ' ')
                   + "\r\n1\r\n"));
    check_refusal(c, 413, "larger than 1024 bytes");
  }
  {
    // Trailers are header fields too.
    raw_client c{s.port()};
    REQUIRE(c.send(chunked + "5\r\nhello\r\n0\r\n"
                   + fields_of(1, field_max) + "\r\n"));
    check_refusal(c, 431, "a header field");
  }
  {
    // A chunk declaring a gigabyte: refused before any of it is sent.
    raw_client c{s.port()};
    REQUIRE(c.send(chunked + "40000000\r\n"));
    check_refusal(c, 413, "larger than 1024 bytes");
  }
  s.still_serves();
}

TEST_CASE("transport: slow clients are dropped") {
  edge_server s{small_limits()};
  // Sends `head`, then one byte of `drip` every 200 ms until the server
  // answers or closes; returns the time from the first byte to then.
  auto trickle = [&](raw_client& c, const std::string& head,
                     const std::string& drip) {
    auto t0 = steady::now();
    REQUIRE(c.send(head));
    for (char ch : drip) {
      if (c.readable_within(200ms) || !c.send(std::string_view{&ch, 1}))
        break;
      REQUIRE(steady::now() - t0 < header_timeout + body_timeout + patience);
    }
    REQUIRE(c.readable_within(patience));
    return steady::now() - t0;
  };

  SUBCASE("headers that trickle in are answered 408") {
    raw_client c{s.port()};
    auto took = trickle(c, "GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           "X-Slow: ",
                        std::string(200, 's'));
    // Less a tick of the server's coarse clock.
    CHECK(took >= header_timeout - 100ms);
    CHECK(took < header_timeout + patience);
    check_refusal(c, 408, "within 1 s");
  }
  SUBCASE("a body that trickles in is answered 408") {
    raw_client c{s.port()};
    auto took = trickle(c, post_head("Content-Length: 500\r\n"),
                        std::string(500, ' '));
    CHECK(took >= body_timeout - 100ms);
    CHECK(took < header_timeout + body_timeout + patience);
    check_refusal(c, 408, "the body within 5 s");
  }
  SUBCASE("a client that stops sending is disconnected") {
    raw_client c{s.port()};
    auto t0 = steady::now();
    REQUIRE(c.send("GET /openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    CHECK(c.closed_within(header_timeout + body_timeout + patience));
    CHECK(steady::now() - t0 >= header_timeout);
  }
  SUBCASE("an idle keep-alive connection is not a slow request") {
    raw_client c{s.port()};
    REQUIRE(c.send(get("/openapi.json")));
    auto first = c.response();
    REQUIRE(first);
    CHECK(first->status == 200);
    // Longer than header_timeout, well within RESTinio's read limit
    // (header_timeout + body_timeout, 6 s).
    std::this_thread::sleep_for(1500ms);
    REQUIRE(c.send(get("/openapi.json")));
    auto second = c.response();
    REQUIRE(second);
    CHECK(second->status == 200);
  }
  s.still_serves();
}

TEST_CASE("transport: connections beyond max_connections wait until one "
          "closes") {
  edge_server s{{{"max_connections", 3}}};
  std::vector<std::unique_ptr<raw_client>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<raw_client>(s.port()));
    REQUIRE(open.back()->send(get("/openapi.json")));
    auto r = open.back()->response();
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  // The kernel completes the handshake; the service does not accept it.
  raw_client extra{s.port()};
  REQUIRE(extra.send(get("/openapi.json")));
  CHECK_FALSE(extra.readable_within(2s));
  // The open connections are served meanwhile.
  for (auto& c : open) {
    REQUIRE(c->send(get("/openapi.json")));
    auto r = c->response();
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK_FALSE(extra.readable_within(0s));
  open.front()->close();
  auto late = extra.response();
  REQUIRE(late);
  CHECK(late->status == 200);
  open.clear();
  extra.close();
  s.still_serves();
}
