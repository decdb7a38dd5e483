#pragma once

// RFC 6455 framing for a one-way stream: the server's frames out, and the
// client's frames in, read without ever holding a client's message. The
// event stream only sends; from a client it needs the control frames (ping,
// pong, close: at most 125 bytes each) and must bound everything else. So
// data messages are counted and skipped, never buffered, and one whose
// frames declare more than the limit in total ends the connection with 1009
// before a byte of its payload is read: memory per connection is fixed,
// whatever length a frame declares (RESTinio's own reader allocates what
// the header says). Pure code, no I/O: the connection feeds it bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hitl::ws {

enum class opcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// The close codes the service sends (RFC 6455 §7.4.1; 4401 is ours, from
/// the private range, mirroring HTTP's 401).
namespace close_code {
constexpr uint16_t normal = 1000;
constexpr uint16_t going_away = 1001;
constexpr uint16_t protocol_error = 1002;
constexpr uint16_t no_status = 1005;
constexpr uint16_t message_too_big = 1009;
/// The token is revoked or expired: authenticate again, do not just retry.
constexpr uint16_t token_invalid = 4401;
} // namespace close_code

/// The largest payload of a control frame (RFC 6455 §5.5).
constexpr size_t max_control_payload = 125;

/// The header of a server frame (FIN set, unmasked) carrying `length` bytes.
std::string frame_header(opcode op, uint64_t length);

/// A whole control frame from the server (payload cut at 125 bytes).
std::string control_frame(opcode op, std::string_view payload);

/// The payload of a close frame: the code, then as much of `reason` as fits.
std::string close_payload(uint16_t code, std::string_view reason);

/// What the client's bytes amounted to.
struct reader_event {
  enum kind_t { none, ping, pong, close, message, violation };
  kind_t kind = none;
  /// ping, pong, close: the unmasked payload (valid until the next feed).
  std::string_view payload;
  /// close: the client's code (1005 when it gave none); violation: the code
  /// to close with (1002 protocol error, 1009 message too big).
  uint16_t code = 0;
  /// message: how many bytes its frames carried (skipped, not kept).
  uint64_t size = 0;
};

/// Reads the client side of a connection, frame by frame, in fixed memory.
class frame_reader {
public:
  explicit frame_reader(uint64_t max_message_bytes)
    : max_message_(max_message_bytes) {
  }

  /// Consumes bytes until one event or the end of `data`; returns how many
  /// it used. After a violation it consumes nothing more.
  size_t feed(const char* data, size_t size, reader_event& ev);

  bool failed() const {
    return state_ == state::failed;
  }

private:
  enum class state { header, payload, failed };

  /// Parses head_ once it holds a whole header; a violation code or 0.
  uint16_t take_header();
  uint16_t check_first_bytes() const;
  void finish_frame(reader_event& ev);
  size_t fail(reader_event& ev, uint16_t code, size_t used);

  uint64_t max_message_;
  state state_ = state::header;
  std::array<uint8_t, 14> head_{};
  size_t head_len_ = 0;
  bool fin_ = false;
  opcode op_ = opcode::continuation;
  std::array<uint8_t, 4> mask_{};
  uint64_t length_ = 0;
  uint64_t done_ = 0;
  bool in_message_ = false;
  uint64_t message_bytes_ = 0;
  std::array<char, max_control_payload> control_{};
};

} // namespace hitl::ws
