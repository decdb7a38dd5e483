#pragma once

// Reading one series out of a Prometheus text exposition (GET /metrics).

#include <sstream>
#include <string>

namespace hitl::test {

/// The value of `series` (its name and labels, as exposed), or -1 if absent.
inline double series_value(const std::string& text, const std::string& series) {
  std::istringstream in{text};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(series + " ", 0) == 0)
      return std::stod(line.substr(series.size() + 1));
  return -1;
}

/// The series of hitl_actor_failures_total for one actor.
inline std::string failures_series(const std::string& actor) {
  return "hitl_actor_failures_total{actor=\"" + actor + "\"}";
}

} // namespace hitl::test
