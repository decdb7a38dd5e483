#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

/// Wall-clock time with PostgreSQL's resolution, so that a value survives a
/// round trip through a `timestamptz` column unchanged.
using timestamp = std::chrono::time_point<std::chrono::system_clock,
                                          std::chrono::microseconds>;

/// A duration with the same resolution; SLA seconds may be fractional.
using duration = std::chrono::microseconds;

/// Returns the current time, truncated to microseconds.
timestamp now();

/// Formats as RFC 3339 UTC with six fractional digits:
/// `2026-11-24T11:12:21.123456Z`. The audit chain hashes this exact text.
std::string format_iso(timestamp t);

/// Parses RFC 3339 (`Z` or `±hh:mm` offset, 0–6 fractional digits, `T` or a
/// space between date and time); `std::nullopt` when malformed.
std::optional<timestamp> parse_iso(std::string_view text);

/// Microseconds since the Unix epoch.
inline int64_t to_micros(timestamp t) {
  return t.time_since_epoch().count();
}

inline timestamp from_micros(int64_t us) {
  return timestamp{duration{us}};
}

/// Converts fractional seconds (as in the config file) to a duration.
inline duration from_seconds(double s) {
  return duration{static_cast<int64_t>(s * 1e6 + (s >= 0 ? 0.5 : -0.5))};
}

inline double to_seconds(duration d) {
  return static_cast<double>(d.count()) / 1e6;
}

} // namespace hitl
