#include "http/client_text.hpp"

#include "policy/utf8.hpp"

#include <algorithm>
#include <cstdio>

namespace hitl {

std::string echoable_text(std::string_view s, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    if (chars == max_chars) {
      out += "...";
      break;
    }
    size_t n = utf8_sequence(s, i, cp);
    if (n == 0 || is_control(cp)) {
      // Each byte of a C1 control too: \xC2\x85, as it came.
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02X",
                      static_cast<unsigned char>(s[i + k]));
        out += buf;
      }
      i += std::max<size_t>(n, 1);
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

std::string storable_text(std::string_view raw, size_t max_bytes) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(raw.size(), max_bytes));
  uint32_t cp = 0;
  for (size_t i = 0; i < raw.size();) {
    size_t n = utf8_sequence(raw, i, cp);
    bool ok = n > 0 && !is_control(cp);
    auto piece = ok ? raw.substr(i, n) : replacement;
    if (out.size() + piece.size() > max_bytes)
      break;
    out += piece;
    i += n > 0 ? n : 1; // one U+FFFD per control character, per bad byte
  }
  return out;
}

} // namespace hitl
