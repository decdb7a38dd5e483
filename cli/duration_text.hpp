#pragma once

// Durations on the command line: a whole number and a unit, as in 90s,
// 30m, 12h or 7d.

#include <chrono>
#include <string>
#include <string_view>

namespace hitl {

struct duration_text {
  /// Positive when parsed; zero when `error` says why not.
  std::chrono::seconds value{0};
  std::string error;
};

/// Parses `<whole number><s|m|h|d>`, from 1s to 3650d. A bare number is
/// refused: it would be a guess whether seconds or days were meant.
duration_text parse_duration_text(std::string_view text);

} // namespace hitl
