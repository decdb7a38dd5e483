#include "http/ws_framing.hpp"

#include <algorithm>

namespace hitl::ws {

namespace {

constexpr uint8_t fin_bit = 0x80;
constexpr uint8_t rsv_bits = 0x70;
constexpr uint8_t mask_bit = 0x80;

bool is_control(opcode op) {
  return (static_cast<uint8_t>(op) & 0x8) != 0;
}

bool known(uint8_t op) {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

/// Close codes a peer may send (RFC 6455 §7.4, and the IANA registry's
/// 1012-1014); 1005, 1006 and 1015 must never appear on the wire.
bool valid_close_code(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

} // namespace

std::string frame_header(opcode op, uint64_t length) {
  std::string out;
  out.push_back(static_cast<char>(fin_bit | static_cast<uint8_t>(op)));
  if (length < 126) {
    out.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>((length >> 8) & 0xFF));
    out.push_back(static_cast<char>(length & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((length >> shift) & 0xFF));
  }
  return out;
}

std::string control_frame(opcode op, std::string_view payload) {
  payload = payload.substr(0, max_control_payload);
  auto out = frame_header(op, payload.size());
  out.append(payload);
  return out;
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xFF));
  out.append(reason.substr(0, max_control_payload - 2));
  return out;
}

// -- frame_reader -------------------------------------------------------------

size_t frame_reader::feed(const char* data, size_t size, reader_event& ev) {
  ev = reader_event{};
  size_t used = 0;
  while (used < size) {
    if (state_ == state::failed)
      return used;
    if (state_ == state::header) {
      head_[head_len_++] = static_cast<uint8_t>(data[used++]);
      if (head_len_ == 2)
        if (auto code = check_first_bytes())
          return fail(ev, code, used);
      if (head_len_ < 2)
        continue;
      size_t len7 = head_[1] & 0x7F;
      size_t need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
      if (head_len_ < need)
        continue;
      if (auto code = take_header())
        return fail(ev, code, used);
      if (length_ == 0) {
        finish_frame(ev);
        if (ev.kind != reader_event::none)
          return ev.kind == reader_event::violation ? fail(ev, ev.code, used)
                                                    : used;
      }
      continue;
    }
    // The payload: a control frame's is unmasked into control_ (≤ 125
    // bytes); a data frame's is only counted.
    auto n = static_cast<size_t>(
      std::min<uint64_t>(size - used, length_ - done_));
    if (is_control(op_))
      for (size_t i = 0; i < n; ++i, ++done_)
        control_[done_] = static_cast<char>(
          static_cast<uint8_t>(data[used + i]) ^ mask_[done_ % 4]);
    else
      done_ += n;
    used += n;
    if (done_ == length_) {
      finish_frame(ev);
      if (ev.kind != reader_event::none)
        return ev.kind == reader_event::violation ? fail(ev, ev.code, used)
                                                  : used;
    }
  }
  return used;
}

uint16_t frame_reader::check_first_bytes() const {
  uint8_t b0 = head_[0];
  uint8_t b1 = head_[1];
  uint8_t op = b0 & 0x0F;
  if ((b0 & rsv_bits) != 0 || !known(op) || (b1 & mask_bit) == 0)
    return close_code::protocol_error; // extensions, unknown, unmasked
  auto code = static_cast<opcode>(op);
  if (is_control(code))
    return (b0 & fin_bit) && (b1 & 0x7F) <= max_control_payload
             ? 0
             : close_code::protocol_error;
  bool continues = code == opcode::continuation;
  return continues == in_message_ ? 0 : close_code::protocol_error;
}

uint16_t frame_reader::take_header() {
  fin_ = (head_[0] & fin_bit) != 0;
  op_ = static_cast<opcode>(head_[0] & 0x0F);
  size_t len7 = head_[1] & 0x7F;
  size_t pos = 2;
  if (len7 < 126) {
    length_ = len7;
  } else {
    size_t bytes = len7 == 126 ? 2 : 8;
    length_ = 0;
    for (size_t i = 0; i < bytes; ++i)
      length_ = (length_ << 8) | head_[pos + i];
    pos += bytes;
    if (length_ >> 63)
      return close_code::protocol_error; // RFC 6455 §5.2: MSB must be 0
  }
  std::copy_n(head_.begin() + static_cast<std::ptrdiff_t>(pos), 4,
              mask_.begin());
  head_len_ = 0;
  done_ = 0;
  if (!is_control(op_)) {
    // Decided from the declared length, before any payload is read.
    if (length_ > max_message_ - message_bytes_)
      return close_code::message_too_big;
    message_bytes_ += length_;
    in_message_ = true;
  }
  state_ = state::payload;
  return 0;
}

void frame_reader::finish_frame(reader_event& ev) {
  state_ = state::header;
  auto payload = std::string_view{control_.data(),
                                  static_cast<size_t>(length_)};
  switch (op_) {
    case opcode::ping:
      ev.kind = reader_event::ping;
      ev.payload = payload;
      return;
    case opcode::pong:
      ev.kind = reader_event::pong;
      ev.payload = payload;
      return;
    case opcode::close: {
      ev.payload = payload;
      if (payload.empty()) {
        ev.kind = reader_event::close;
        ev.code = close_code::no_status;
        return;
      }
      uint16_t code = 0;
      if (payload.size() >= 2)
        code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                                     | static_cast<uint8_t>(payload[1]));
      if (!valid_close_code(code)) {
        ev.kind = reader_event::violation;
        ev.code = close_code::protocol_error;
        return;
      }
      ev.kind = reader_event::close;
      ev.code = code;
      return;
    }
    default:
      if (fin_) {
        ev.kind = reader_event::message;
        ev.size = message_bytes_;
        in_message_ = false;
        message_bytes_ = 0;
      }
      return;
  }
}

size_t frame_reader::fail(reader_event& ev, uint16_t code, size_t used) {
  state_ = state::failed;
  ev = reader_event{};
  ev.kind = reader_event::violation;
  ev.code = code;
  return used;
}

} // namespace hitl::ws
