#include "cli/duration_text.hpp"

#include <cstdint>

namespace hitl {

namespace {

constexpr int64_t max_duration_seconds = int64_t{3650} * 86400;

duration_text refuse(std::string_view text, const std::string& why) {
  return {std::chrono::seconds{0},
          "'" + std::string{text} + "' " + why
            + " (a whole number and a unit s, m, h or d, e.g. 90s, 30m, "
              "12h, 7d)"};
}

} // namespace

duration_text parse_duration_text(std::string_view text) {
  if (text.empty())
    return refuse(text, "is empty");
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9')
    ++digits;
  if (digits == 0)
    return refuse(text, "does not start with a number");
  if (digits == text.size())
    return refuse(text, "has no unit");
  if (digits + 1 != text.size())
    return refuse(text, "is not a number followed by one unit");
  int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return refuse(text, "has an unknown unit");
  }
  // Digits beyond what the limit needs are refused before they overflow.
  int64_t n = 0;
  for (size_t i = 0; i < digits; ++i) {
    n = n * 10 + (text[i] - '0');
    if (n * unit > max_duration_seconds)
      return refuse(text, "is longer than 3650d");
  }
  if (n == 0)
    return refuse(text, "is zero");
  return {std::chrono::seconds{n * unit}, {}};
}

} // namespace hitl
