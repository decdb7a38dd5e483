#include "tests/pg/webhook_receiver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace hitl::test {

namespace {

int listen_on(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error("webhook receiver: cannot listen");
  }
  return fd;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

webhook_receiver::webhook_receiver() {
  int fd = listen_on(0);
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  running_ = true;
  thread_ = std::thread([this, fd] { serve(fd); });
}

webhook_receiver::~webhook_receiver() {
  down();
}

std::string webhook_receiver::url() const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
}

void webhook_receiver::down() {
  running_ = false;
  if (thread_.joinable())
    thread_.join();
}

void webhook_receiver::up() {
  if (running_)
    return;
  int fd = listen_on(port_);
  running_ = true;
  thread_ = std::thread([this, fd] { serve(fd); });
}

void webhook_receiver::serve(int listener) {
  while (running_) {
    pollfd p{listener, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    int conn = ::accept(listener, nullptr, nullptr);
    if (conn < 0)
      continue;
    std::string data;
    char buf[8192];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (true) {
      pollfd cp{conn, POLLIN, 0};
      if (::poll(&cp, 1, 2000) <= 0)
        break;
      auto n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          auto h = lower(data.substr(0, header_end));
          auto pos = h.find("content-length:");
          if (pos != std::string::npos)
            content_length = std::stoul(h.substr(pos + 15));
        }
      }
      if (header_end != std::string::npos
          && data.size() >= header_end + 4 + content_length)
        break;
    }
    if (header_end != std::string::npos) {
      received_hook hook;
      hook.at = std::chrono::system_clock::now();
      hook.body = data.substr(header_end + 4, content_length);
      size_t line = data.find("\r\n") + 2;
      while (line < header_end) {
        auto next = data.find("\r\n", line);
        auto colon = data.find(':', line);
        if (colon != std::string::npos && colon < next) {
          auto value = data.substr(colon + 1, next - colon - 1);
          while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
          hook.headers[lower(data.substr(line, colon - line))] = value;
        }
        line = next + 2;
      }
      {
        std::lock_guard<std::mutex> guard{mtx_};
        received_.push_back(hook);
      }
      int left = delayed_left_.load();
      if (left != 0) {
        if (left > 0)
          delayed_left_ = left - 1;
        std::this_thread::sleep_for(
          std::chrono::milliseconds(delay_ms_.load()));
      }
      auto reply = "HTTP/1.1 " + std::to_string(status_.load())
                   + " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(conn, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
    ::close(conn);
  }
  ::close(listener);
}

std::vector<received_hook> webhook_receiver::received() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return received_;
}

bool webhook_receiver::wait_for(
  const std::function<bool(const std::vector<received_hook>&)>& pred,
  std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred(received()))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred(received());
}

} // namespace hitl::test
