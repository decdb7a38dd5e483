// The event stream's RFC 6455 framing and handshake rules, without a
// server: frames as a client sends them (masked), fed whole and byte by
// byte, and the bounds that keep a connection in fixed memory.

#include "http/ws_framing.hpp"
#include "http/ws_handshake.hpp"

#include <doctest/doctest.h>

#include <string>

#include <string>
#include <vector>

using namespace hitl;
using namespace hitl::ws;

namespace {

/// A client frame: masked, with the length in the shortest form unless
/// `declared` overrides it (the payload is then what follows, if any).
std::string client_frame(uint8_t first, const std::string& payload,
                         uint64_t declared = UINT64_MAX) {
  uint64_t len = declared == UINT64_MAX ? payload.size() : declared;
  std::string f;
  f.push_back(static_cast<char>(first));
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
  const uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  for (auto m : mask)
    f.push_back(static_cast<char>(m));
  for (size_t i = 0; i < payload.size(); ++i)
    f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}

struct seen {
  reader_event::kind_t kind;
  std::string payload;
  uint16_t code;
  uint64_t size;
};

/// Feeds `bytes` in pieces of `step`; collects every event.
std::vector<seen> read_all(frame_reader& r, const std::string& bytes,
                           size_t step) {
  std::vector<seen> out;
  size_t pos = 0;
  while (pos < bytes.size() && !r.failed()) {
    auto n = std::min(step, bytes.size() - pos);
    size_t used = 0;
    while (used < n && !r.failed()) {
      reader_event ev;
      used += r.feed(bytes.data() + pos + used, n - used, ev);
      if (ev.kind != reader_event::none)
        out.push_back({ev.kind, std::string{ev.payload}, ev.code, ev.size});
    }
    pos += n;
  }
  return out;
}

constexpr uint8_t fin = 0x80;

} // namespace

TEST_CASE("server frames: header forms by length, control frames, close") {
  CHECK(frame_header(opcode::text, 5) == std::string("\x81\x05", 2));
  CHECK(frame_header(opcode::text, 126) == std::string("\x81\x7e\x00\x7e", 4));
  CHECK(frame_header(opcode::text, 65536)
        == std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
  CHECK(control_frame(opcode::ping, "") == std::string("\x89\x00", 2));
  CHECK(control_frame(opcode::pong, std::string(200, 'x')).size() == 2 + 125);
  CHECK(close_payload(1009, "too big") == std::string("\x03\xf1too big", 9));
  CHECK(close_payload(4401, std::string(300, 'r')).size() == 125);
}

TEST_CASE("pings, pongs and closes are read, whole or a byte at a time") {
  auto bytes = client_frame(fin | 0x9, "are you there")
               + client_frame(fin | 0xA, "")
               + client_frame(fin | 0x8, std::string("\x03\xe8", 2) + "bye");
  for (size_t step : {bytes.size(), size_t{1}, size_t{3}}) {
    CAPTURE(step);
    frame_reader r{65536};
    auto ev = read_all(r, bytes, step);
    REQUIRE(ev.size() == 3);
    CHECK(ev[0].kind == reader_event::ping);
    CHECK(ev[0].payload == "are you there");
    CHECK(ev[1].kind == reader_event::pong);
    CHECK(ev[2].kind == reader_event::close);
    CHECK(ev[2].code == 1000);
    CHECK(ev[2].payload.substr(2) == "bye");
  }
}

TEST_CASE("data messages are counted and skipped, fragmented or not, "
          "control frames in between") {
  frame_reader r{100};
  auto bytes = client_frame(fin | 0x1, std::string(100, 'a'))
               + client_frame(0x2, std::string(40, 'b'))
               + client_frame(fin | 0x9, "mid")
               + client_frame(0x0, std::string(40, 'c'))
               + client_frame(fin | 0x0, std::string(20, 'd'));
  auto ev = read_all(r, bytes, 7);
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].kind == reader_event::message);
  CHECK(ev[0].size == 100);
  CHECK(ev[1].kind == reader_event::ping);
  CHECK(ev[1].payload == "mid");
  CHECK(ev[2].kind == reader_event::message);
  CHECK(ev[2].size == 100);
  CHECK_FALSE(r.failed());
}

TEST_CASE("a frame declaring more than the limit is refused from its header "
          "alone (1009)") {
  for (uint64_t declared : {uint64_t{65537}, uint64_t{1} << 32,
                            uint64_t{1} << 62, (uint64_t{1} << 63) - 1}) {
    CAPTURE(declared);
    frame_reader r{65536};
    // Only the header: nothing of the payload has to arrive.
    auto ev = read_all(r, client_frame(fin | 0x2, "", declared), 1);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].kind == reader_event::violation);
    CHECK(ev[0].code == close_code::message_too_big);
    CHECK(r.failed());
  }
  frame_reader exact{65536};
  CHECK(read_all(exact, client_frame(fin | 0x2, std::string(65536, 'x')), 4096)
          .at(0)
          .kind
        == reader_event::message);
}

TEST_CASE("continuation frames adding up past the limit are refused at the "
          "frame that crosses it (1009)") {
  frame_reader r{1000};
  std::string bytes = client_frame(0x1, std::string(300, 'a'));
  for (int i = 0; i < 2; ++i)
    bytes += client_frame(0x0, std::string(300, 'b'));
  bytes += client_frame(0x0, "", 101); // 900 so far: 100 more fit, 101 not
  auto ev = read_all(r, bytes, 64);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].kind == reader_event::violation);
  CHECK(ev[0].code == close_code::message_too_big);
}

TEST_CASE("protocol violations close with 1002") {
  const std::string unmasked("\x89\x00", 2);
  struct bad {
    const char* what;
    std::string bytes;
  };
  const std::vector<bad> cases = {
    {"unmasked", unmasked},
    {"reserved bit", client_frame(fin | 0x40 | 0x1, "x")},
    {"unknown opcode", client_frame(fin | 0x3, "x")},
    {"fragmented ping", client_frame(0x9, "x")},
    {"control frame over 125 bytes", client_frame(fin | 0x9, "", 126)},
    {"continuation without a start", client_frame(fin | 0x0, "x")},
    {"new message inside another",
     client_frame(0x1, "a") + client_frame(fin | 0x1, "b")},
    {"64-bit length with the top bit",
     client_frame(fin | 0x2, "", UINT64_MAX - 1)},
    {"close with one byte", client_frame(fin | 0x8, "\x03")},
    {"close with code 1005",
     client_frame(fin | 0x8, std::string("\x03\xed", 2))},
    {"close with code 999",
     client_frame(fin | 0x8, std::string("\x03\xe7", 2))},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    frame_reader r{65536};
    auto ev = read_all(r, c.bytes, c.bytes.size());
    REQUIRE_FALSE(ev.empty());
    CHECK(ev.back().kind == reader_event::violation);
    CHECK(ev.back().code == close_code::protocol_error);
    // After a violation nothing more is read.
    reader_event after;
    CHECK(r.feed("\x89\x80\0\0\0\0", 6, after) == 0);
  }
}

TEST_CASE("handshake: bearer.<token> beside hitl.v1 echoes hitl.v1, never "
          "the token") {
  ws_offer offer;
  add_ws_protocols("hitl.v1, bearer.hitl_secret", offer);
  auto c = ws_credentials_of(std::nullopt, offer);
  CHECK(c.token == "hitl_secret");
  CHECK(c.protocol == "hitl.v1");
  CHECK_FALSE(c.refusal);

  ws_offer split; // the same offer over two header lines
  add_ws_protocols("bearer.hitl_secret", split);
  add_ws_protocols(" hitl.v1 ", split);
  CHECK(ws_credentials_of(std::nullopt, split).token == "hitl_secret");
  CHECK(ws_credentials_of(std::nullopt, split).protocol == "hitl.v1");
}

TEST_CASE("handshake: the Authorization header wins; hitl.v1 is echoed when "
          "offered, nothing when no subprotocol was") {
  ws_offer offer;
  add_ws_protocols("hitl.v1", offer);
  auto c = ws_credentials_of(std::string{"from_header"}, offer);
  CHECK(c.token == "from_header");
  CHECK(c.protocol == "hitl.v1");

  auto plain = ws_credentials_of(std::string{"from_header"}, ws_offer{});
  CHECK(plain.token == "from_header");
  CHECK(plain.protocol.empty());
  CHECK_FALSE(plain.refusal);
}

TEST_CASE("handshake: subprotocols without hitl.v1 are refused, so the "
          "token is never the one to echo") {
  for (auto header : {"bearer.hitl_secret", "chat, superchat"}) {
    CAPTURE(header);
    ws_offer offer;
    add_ws_protocols(header, offer);
    auto c = ws_credentials_of(std::nullopt, offer);
    CHECK(c.refusal);
    CHECK(c.protocol.empty());
  }
  ws_offer none;
  add_ws_protocols("hitl.v1, bearer.", none); // an empty token is no token
  CHECK(ws_credentials_of(std::nullopt, none).token.empty());
}

TEST_CASE("ws handshake: a Sec-WebSocket-Key is 16 bytes in base64") {
  CHECK(hitl::valid_ws_key("dGhlIHNhbXBsZSBub25jZQ=="));  // RFC 6455's
  CHECK(hitl::valid_ws_key("AAAAAAAAAAAAAAAAAAAAAA=="));
  CHECK_FALSE(hitl::valid_ws_key(""));
  CHECK_FALSE(hitl::valid_ws_key("!!!"));
  CHECK_FALSE(hitl::valid_ws_key("MTIzNDU2Nzg="));                // 8 bytes
  CHECK_FALSE(hitl::valid_ws_key("dGhlIHNhbXBsZSBub25jZQ="));    // 23 chars
  CHECK_FALSE(hitl::valid_ws_key("dGhlIHNhbXBsZSBub25jZR=="));   // bits set
  CHECK_FALSE(hitl::valid_ws_key("dGhlIHNhbXBsZSBub25j!Q=="));
  CHECK_FALSE(hitl::valid_ws_key(std::string(1000, 'A')));
}
