#include "http/path_ids.hpp"

#include "policy/decision.hpp"
#include "policy/utf8.hpp"

namespace hitl {

namespace {

// Ids: 255 characters, as the columns hold them.
constexpr size_t max_id_chars = 255;

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<std::string> parse_path_id(std::string_view raw,
                                         path_id_kind kind) {
  // The longest id, 255 characters of four bytes, each written %XX.
  if (raw.empty() || raw.size() > max_id_chars * 4 * 3)
    return std::nullopt;
  std::string id;
  id.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      id += raw[i];
      continue;
    }
    int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    int lo = hi >= 0 ? hex_value(raw[i + 2]) : -1;
    if (lo < 0)
      return std::nullopt;
    id += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  switch (kind) {
    case path_id_kind::decision_id:
      if (!valid_decision_id(id))
        return std::nullopt;
      break;
    case path_id_kind::patch_id:
      // As parse_create_decision takes it: not blank, 255 characters.
      if (is_blank(id) || !plain_text(id) || char_count(id) > max_id_chars)
        return std::nullopt;
      break;
    case path_id_kind::file_name:
      if (id.size() > max_id_chars || !plain_text(id))
        return std::nullopt;
      break;
  }
  return id;
}

} // namespace hitl
