#include "tests/pg/ws_test_client.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <random>

namespace hitl::test {

raw_socket::raw_socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
  REQUIRE(fd_ >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0}; // connect on loopback: refused or done at once
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr)
          == 0);
}

raw_socket::~raw_socket() {
  ::close(fd_);
}

bool raw_socket::send_all(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    auto n =
      ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

bool raw_socket::fill(size_t n, steady::time_point deadline) {
  while (buf.size() < n) {
    if (!read_some(deadline))
      return false;
  }
  return true;
}

bool raw_socket::wait_eof(steady::time_point deadline) {
  while (read_some(deadline))
    buf.clear();
  return eof_;
}

bool raw_socket::read_some(steady::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    deadline - steady::now());
  if (left.count() <= 0)
    return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
    return false;
  char chunk[16384];
  auto n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  buf.append(chunk, static_cast<size_t>(n));
  return true;
}

handshake_result handshake(raw_socket& s,
                           const std::vector<std::string>& extra,
                           std::chrono::seconds patience) {
  std::string req = "GET /hitl/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                    "Sec-WebSocket-Version: 13\r\n";
  for (const auto& h : extra)
    req += h + "\r\n";
  REQUIRE(s.send_all(req + "\r\n"));
  handshake_result r;
  auto deadline = steady::now() + patience;
  size_t end = std::string::npos;
  while ((end = s.buf.find("\r\n\r\n")) == std::string::npos)
    REQUIRE(s.fill(s.buf.size() + 1, deadline));
  r.head = s.buf.substr(0, end);
  s.buf.erase(0, end + 4);
  r.status = std::stoi(r.head.substr(9, 3));
  size_t pos = r.head.find("\r\n");
  while (pos != std::string::npos) {
    auto next = r.head.find("\r\n", pos + 2);
    auto line = r.head.substr(pos + 2, next == std::string::npos
                                         ? std::string::npos
                                         : next - pos - 2);
    auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pos = next;
  }
  if (r.status != 101 && r.headers.count("content-length")) {
    auto n = std::stoul(r.headers["content-length"]);
    REQUIRE(s.fill(n, deadline));
    r.body = s.buf.substr(0, n);
    s.buf.erase(0, n);
  }
  return r;
}

std::string client_frame(uint8_t first, const std::string& payload,
                         std::optional<uint64_t> declared) {
  uint64_t len = declared.value_or(payload.size());
  std::string f(1, static_cast<char>(first));
  if (len < 126) {
    f.push_back(static_cast<char>(0x80 | len));
  } else if (len <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(len >> 8));
    f.push_back(static_cast<char>(len & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8)
      f.push_back(static_cast<char>((len >> s) & 0xFF));
  }
  static std::mt19937 rng{std::random_device{}()};
  uint8_t mask[4];
  for (auto& m : mask)
    m = static_cast<uint8_t>(rng());
  f.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

server_frame next_frame(raw_socket& s, steady::time_point deadline) {
  server_frame f;
  if (!s.fill(2, deadline))
    return f;
  uint64_t len = static_cast<uint8_t>(s.buf[1]) & 0x7F;
  size_t head = 2;
  if (len >= 126) {
    size_t ext = len == 126 ? 2 : 8;
    if (!s.fill(2 + ext, deadline))
      return f;
    len = 0;
    for (size_t i = 0; i < ext; ++i)
      len = (len << 8) | static_cast<uint8_t>(s.buf[2 + i]);
    head += ext;
  }
  if (!s.fill(head + len, deadline))
    return f;
  f.opcode = static_cast<uint8_t>(s.buf[0]) & 0x0F;
  f.payload = s.buf.substr(head, len);
  s.buf.erase(0, head + len);
  return f;
}

server_frame next_non_ping(raw_socket& s, steady::time_point deadline) {
  for (;;) {
    auto f = next_frame(s, deadline);
    if (f.opcode != op_ping)
      return f;
  }
}

} // namespace hitl::test
