#pragma once

// What one simulation run is: its size, its faults, its seed, and which
// defence (if any) is deliberately broken to show that the checker sees it.

#include "measured.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace hitl::sim {

/// A defence turned off on purpose (--break): each must make the invariant
/// checker fail the run.
struct broken_defences {
  bool fence = false;   ///< group commits do not check owner and epoch
  bool version = false; ///< the row's level is not checked on commit
  bool rearm = false;   ///< a reload does not fire levels already missed
};

struct sim_config {
  int nodes = 4;
  int decisions = 20'000;
  micros horizon = 600 * sec;
  std::uint64_t seed = 1;
  int crashes = 1;
  int pauses = 1;
  int joins = 1;
  /// A pause lasts lease_length plus up to this much more.
  micros pause_extra = 10 * sec;
  micros max_clock_offset = 50 * ms;
  double max_drift_ppm = 200;
  /// Levels due this long before the end must be committed by it.
  micros lost_budget = 30 * sec;
  broken_defences broken;
  std::string json_path;
};

/// Parses the command line; throws std::invalid_argument naming the bad
/// option or value.
sim_config parse_sim_config(const std::vector<std::string>& args);

/// The options, for --help and for an error.
std::string sim_usage();

} // namespace hitl::sim
