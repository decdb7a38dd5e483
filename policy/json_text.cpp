#include "policy/json_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace hitl {

namespace {

// What writing a byte takes: nothing (0), an escape (1), or UTF-8
// validation (2, not ASCII).
constexpr std::array<unsigned char, 256> byte_kind = [] {
  std::array<unsigned char, 256> kind{};
  for (int c = 0; c < 0x20; ++c)
    kind[c] = 1;
  kind['"'] = 1;
  kind['\\'] = 1;
  for (int c = 0x80; c < 0x100; ++c)
    kind[c] = 2;
  return kind;
}();

// The length of the prefix of `v` that is written as it is.
size_t plain_prefix(std::string_view v) {
  size_t i = 0;
  while (i < v.size() && byte_kind[static_cast<unsigned char>(v[i])] == 0)
    ++i;
  return i;
}

} // namespace

// A value follows a key's colon, an opening bracket or nothing; anything
// else is a previous member or element, so a comma comes first.
bool json_text::needs_comma() const {
  if (out_.empty())
    return false;
  char last = out_.back();
  return last != '{' && last != '[' && last != ':';
}

void json_text::separate() {
  if (needs_comma())
    out_ += ',';
}

// The separator, `"`, `v` and `tail` as one append: keys and most values
// need no escape, and this is the hottest path of every JSON text written
// (each std::string call is out of line, so fewer calls is less work).
void json_text::quoted(std::string_view v, std::string_view tail) {
  std::array<char, 256> buf;
  if (v.size() + tail.size() + 2 > buf.size()) {
    separate();
    out_ += '"';
    out_.append(v).append(tail);
    return;
  }
  char* p = buf.data();
  if (needs_comma())
    *p++ = ',';
  *p++ = '"';
  std::memcpy(p, v.data(), v.size());
  p += v.size();
  std::memcpy(p, tail.data(), tail.size());
  p += tail.size();
  out_.append(buf.data(), p);
}

// The separator and `text` (a number or literal) as one append.
void json_text::scalar(std::string_view text) {
  std::array<char, 72> buf;
  char* p = buf.data();
  if (needs_comma())
    *p++ = ',';
  std::memcpy(p, text.data(), text.size());
  out_.append(buf.data(), p + text.size());
}

json_text& json_text::begin_object() {
  separate();
  out_ += '{';
  return *this;
}

json_text& json_text::end_object() {
  out_ += '}';
  return *this;
}

json_text& json_text::begin_array() {
  separate();
  out_ += '[';
  return *this;
}

json_text& json_text::end_array() {
  out_ += ']';
  return *this;
}

json_text& json_text::key(std::string_view k) {
  if (plain_prefix(k) == k.size()) {
    quoted(k, "\":");
    return *this;
  }
  string(k);
  out_ += ':';
  return *this;
}

namespace {

// The escape of a character below 0x20, or of '"' and '\\'; nullptr for one
// that is written as it is.
const char* escape_of(unsigned char c) {
  static const char* const control[0x20] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005",
    "\\u0006", "\\u0007", "\\b",     "\\t",     "\\n",     "\\u000b",
    "\\f",     "\\r",     "\\u000e", "\\u000f", "\\u0010", "\\u0011",
    "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
    "\\u001e", "\\u001f"};
  if (c < 0x20)
    return control[c];
  if (c == '"')
    return "\\\"";
  if (c == '\\')
    return "\\\\";
  return nullptr;
}

} // namespace

json_text& json_text::string(std::string_view v) {
  size_t plain = plain_prefix(v);
  if (plain == v.size()) {
    quoted(v, "\"");
    return *this;
  }
  separate();
  bool ascii = std::none_of(v.begin() + plain, v.end(), [](char c) {
    return byte_kind[static_cast<unsigned char>(c)] == 2;
  });
  if (!ascii) {
    // Rare (names, comments): nlohmann validates the UTF-8 exactly as the
    // DOM's dump did, refusing or replacing what is not valid.
    out_ += nlohmann::json(v).dump(-1, ' ', false,
                                   policy_ == invalid_utf8::replace
                                     ? nlohmann::json::error_handler_t::replace
                                     : nlohmann::json::error_handler_t::strict);
    return *this;
  }
  out_ += '"';
  // Runs of characters that need no escape are appended whole.
  size_t run = 0;
  for (size_t i = plain; i < v.size(); ++i) {
    if (const char* esc = escape_of(static_cast<unsigned char>(v[i]))) {
      out_.append(v.data() + run, i - run);
      out_ += esc;
      run = i + 1;
    }
  }
  out_.append(v.data() + run, v.size() - run);
  out_ += '"';
  return *this;
}

json_text& json_text::string(const std::optional<std::string>& v) {
  return v ? string(*v) : null();
}

json_text& json_text::integer(int64_t v) {
  std::array<char, 24> buf;
  auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  scalar({buf.data(), static_cast<size_t>(r.ptr - buf.data())});
  return *this;
}

json_text& json_text::integer(const std::optional<int64_t>& v) {
  return v ? integer(*v) : null();
}

json_text& json_text::real(double v) {
  if (!std::isfinite(v))
    return null();
  // The same shortest round-trip form (Grisu2) that nlohmann's dump uses.
  std::array<char, 64> buf;
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), v);
  scalar({buf.data(), static_cast<size_t>(end - buf.data())});
  return *this;
}

json_text& json_text::real(const std::optional<double>& v) {
  return v ? real(*v) : null();
}

json_text& json_text::boolean(bool v) {
  scalar(v ? "true" : "false");
  return *this;
}

json_text& json_text::null() {
  scalar("null");
  return *this;
}

json_text& json_text::time(timestamp t) {
  return string(format_iso(t));
}

json_text& json_text::time(const std::optional<timestamp>& t) {
  return t ? time(*t) : null();
}

json_text& json_text::strings(const std::vector<std::string>& v) {
  begin_array();
  for (const auto& s : v)
    string(s);
  return end_array();
}

json_text& json_text::raw(std::string_view json) {
  separate();
  out_ += json;
  return *this;
}

} // namespace hitl
