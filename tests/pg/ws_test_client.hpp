#pragma once

// A WebSocket client for the tests, on a raw TCP socket whose every wait
// ends by a deadline: the upgrade, masked client frames, and the server's
// frames read one at a time.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hitl::test {

using steady = std::chrono::steady_clock;

/// A TCP connection to 127.0.0.1:`port`.
class raw_socket {
public:
  explicit raw_socket(int port);
  ~raw_socket();
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  /// False when the peer closed or the send timed out.
  bool send_all(const std::string& bytes);
  /// Reads until `buf` holds `n` bytes; false on EOF, error or deadline.
  bool fill(size_t n, steady::time_point deadline);
  /// Reads until the peer closes (true) or the deadline (false).
  bool wait_eof(steady::time_point deadline);

  std::string buf;

private:
  bool read_some(steady::time_point deadline);

  int fd_;
  bool eof_ = false;
};

struct handshake_result {
  int status = 0;
  std::string head; // status line and headers, as sent
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
};

/// Sends an upgrade request to /hitl/ws with `extra` header lines; reads the
/// answer (for a refusal, its body too) within `patience`.
handshake_result handshake(raw_socket& s,
                           const std::vector<std::string>& extra,
                           std::chrono::seconds patience =
                             std::chrono::seconds(15));

/// A client frame (masked); `declared` overrides the length in the header.
std::string client_frame(uint8_t first, const std::string& payload,
                         std::optional<uint64_t> declared = std::nullopt);

constexpr uint8_t fin = 0x80;
inline const std::string close_normal("\x03\xe8", 2); // 1000
constexpr uint8_t op_continuation = 0x0, op_text = 0x1, op_binary = 0x2,
                  op_close = 0x8, op_ping = 0x9, op_pong = 0xA;

struct server_frame {
  int opcode = -1;
  std::string payload;
  int close_code() const {
    return payload.size() < 2
             ? -1
             : (static_cast<uint8_t>(payload[0]) << 8)
                 | static_cast<uint8_t>(payload[1]);
  }
};

/// The next frame from the server (unmasked); opcode -1 when none came.
server_frame next_frame(raw_socket& s, steady::time_point deadline);

/// The next frame that is not one of the server's pings.
server_frame next_non_ping(raw_socket& s, steady::time_point deadline);

} // namespace hitl::test
