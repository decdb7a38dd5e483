#pragma once

// The clients of GET /hitl/ws and what they are sent. Fed from an actor
// after each commit; thread-safe. A client that falls behind (too many
// frames not yet written) is dropped rather than allowed to hold memory or
// stall anyone, and clients that stop answering pings are closed.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace restinio::websocket::basic {
class ws_t;
} // namespace restinio::websocket::basic

namespace hitl {

class event_stream {
public:
  using ws_ptr = std::shared_ptr<restinio::websocket::basic::ws_t>;
  using clock = std::chrono::steady_clock;

  explicit event_stream(int max_queued = 256) : max_queued_(max_queued) {
  }

  void add(uint64_t id, ws_ptr ws);
  void remove(uint64_t id);
  /// Something arrived from the client (a pong, a close): it is alive.
  void touch(uint64_t id);

  /// Sends a text frame to every client.
  void publish(const std::string& text);

  /// Pings every client; closes those silent for longer than `max_silence`.
  void ping_and_reap(clock::duration max_silence);

  void close_all();
  size_t clients() const;
  /// Clients dropped for falling behind, since start.
  uint64_t dropped() const {
    return dropped_;
  }

private:
  struct client {
    ws_ptr ws;
    std::shared_ptr<std::atomic<int>> queued;
    clock::time_point last_seen;
  };
  void send(uint64_t id, client& c, int opcode, const std::string& payload);

  int max_queued_;
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, client> clients_;
  std::atomic<uint64_t> dropped_{0};
};

} // namespace hitl
