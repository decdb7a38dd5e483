#pragma once

// Who a WebSocket upgrade of GET /hitl/ws comes from, and which subprotocol
// to answer with. A browser cannot set headers on a WebSocket, so its token
// travels as the subprotocol `bearer.<token>`, offered beside `hitl.v1`;
// the server echoes `hitl.v1`, never the token (an echoed token would sit
// in every proxy's and browser's view of the handshake). Other clients may
// send the Authorization header instead. Pure: tested without a server.

#include <optional>
#include <string>
#include <string_view>

namespace hitl {

/// The subprotocol the service speaks.
inline constexpr std::string_view ws_protocol = "hitl.v1";

/// What the client offered in its Sec-WebSocket-Protocol header(s).
struct ws_offer {
  /// From `bearer.<token>`; empty when none was offered.
  std::string token;
  bool hitl_v1 = false;
  bool any = false;
};

/// Adds one Sec-WebSocket-Protocol header's comma-separated values.
void add_ws_protocols(std::string_view header, ws_offer& offer);

struct ws_credentials {
  /// The token to check: the Authorization header's, else the offered one.
  std::string token;
  /// The subprotocol to echo (`hitl.v1`), or empty to echo none.
  std::string protocol;
  /// Why the handshake is refused (400) even with a valid token.
  std::optional<std::string> refusal;
};

/// A Sec-WebSocket-Key as RFC 6455 §4.1 has it: 16 bytes in base64
/// (24 characters, the last two `==`).
bool valid_ws_key(std::string_view key);

/// `bearer`: the token of an Authorization header, if it had one.
ws_credentials ws_credentials_of(const std::optional<std::string>& bearer,
                                 const ws_offer& offer);

} // namespace hitl
