#include "http/ws_handshake.hpp"

namespace hitl {

namespace {

constexpr std::string_view bearer_prefix = "bearer.";

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

} // namespace

void add_ws_protocols(std::string_view header, ws_offer& offer) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = trimmed(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{}
                                             : header.substr(comma + 1);
    if (item.empty())
      continue;
    offer.any = true;
    if (item == ws_protocol)
      offer.hitl_v1 = true;
    else if (item.size() > bearer_prefix.size()
             && item.substr(0, bearer_prefix.size()) == bearer_prefix
             && offer.token.empty())
      offer.token = std::string{item.substr(bearer_prefix.size())};
  }
}

ws_credentials ws_credentials_of(const std::optional<std::string>& bearer,
                                 const ws_offer& offer) {
  ws_credentials out;
  out.token = bearer && !bearer->empty() ? *bearer : offer.token;
  if (offer.hitl_v1) {
    out.protocol = std::string{ws_protocol};
  } else if (offer.any) {
    // Answering without a subprotocol when some were offered makes browsers
    // fail the connection, and echoing `bearer.<token>` would publish the
    // token: refuse plainly instead.
    out.refusal = "offer the subprotocol " + std::string{ws_protocol}
                  + " (beside bearer.<token> when the token travels there)";
  }
  return out;
}

bool valid_ws_key(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  auto base64 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  for (size_t i = 0; i < 22; ++i)
    if (!base64(key[i]))
      return false;
  // The 22nd character carries the last 2 bits of the 16th byte and 4 bits
  // of padding, which must be zero.
  return std::string_view{"AQgw"}.find(key[21]) != std::string_view::npos;
}

} // namespace hitl
