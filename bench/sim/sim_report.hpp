#pragma once

// What a run measured, and its report as text and as JSON. Nothing here
// depends on the machine's speed, so one seed gives one report.

#include "measured.hpp"
#include "sim_config.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace hitl::sim {

/// One membership change and the partitions that moved (acquisitions)
/// until the next one.
struct membership_change {
  std::string kind; ///< start, crash, pause, wake, join
  int node = -1;
  micros at = 0;
  int held_before = 0; ///< what the node held in the database then
  int moved = 0;
};

struct sim_stats {
  std::vector<micros> takeover_writable; ///< crash/pause -> new epoch
  std::vector<micros> takeover_serving;  ///< crash/pause -> reloaded
  std::vector<micros> lateness;          ///< commit time - level's time
  std::vector<membership_change> changes;
  std::uint64_t fenced_batches = 0;
  std::uint64_t fenced_writes = 0;
  std::uint64_t version_conflicts = 0;
  std::uint64_t commits = 0;
  std::uint64_t batches = 0;
  std::uint64_t events = 0;
  std::uint64_t escalations_due = 0; ///< due by the end, less the budget
  std::vector<int> owned_at_end;     ///< per live node
  int live_at_end = 0;
  std::string violation; ///< empty when every invariant held
};

/// p50/p90/p99/max (nearest rank) of `v`, in milliseconds.
struct distribution {
  std::size_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
};
distribution distribution_of(std::vector<micros> v);

std::string text_report(const sim_config& c, const sim_stats& s);
std::string json_report(const sim_config& c, const sim_stats& s);

} // namespace hitl::sim
