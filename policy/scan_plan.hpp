#pragma once

// What one membership scan of a node does with what it read (SPEC §8):
// the pure half of actors/membership.cpp's scan, shared with the
// simulation (bench/sim), so that both decide with one implementation.

#include "policy/partition.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// One partition's row as a scan reads it: its owner while that owner's
/// lease runs (std::nullopt otherwise), and its epoch.
struct partition_row {
  std::optional<std::string> owner;
  std::int64_t epoch = 0;
};

/// A scan's moves for node `me`.
struct scan_plan {
  /// Held in memory, but the database names another owner or epoch: taken
  /// over while this node's lease had run out. Forgotten at once.
  std::vector<int> lost;
  /// To hand over at the epochs held: partitions a joining node should have
  /// (at most `max_release` to each), and those an earlier run of this node still
  /// holds that the plan does not give back to it.
  std::vector<partition_lease> release;
  /// To take at the next epoch.
  std::vector<partition_id> acquire;
};

/// `held` maps partition -> epoch as this node believes it holds them,
/// `live` are the live nodes (me among them), `rows` the partitions in
/// order. Rows this node owns but does not hold in memory belong to an
/// earlier run of it (restarted within its lease): they count as unowned,
/// so that the plan may take them back at the next epoch.
scan_plan plan_scan(std::string_view me,
                    const std::map<int, std::int64_t>& held,
                    const std::vector<std::string>& live,
                    const std::vector<partition_row>& rows,
                    std::size_t max_release);

/// How long a node waits before its next scan: `every`, or, when another
/// live node's lease runs out sooner (`peer_lease_left`, by the database's
/// clock), just after that: a killed node's partitions are then taken as
/// soon as its lease allows, not up to a scan period later (a lease of 6 s
/// renewed every 1.5 s: re-owned at most ~6.1 s after the kill instead of
/// 7.5 s). A healthy peer always has more than `every` left, so the scans
/// of a quiet cluster keep their period. Never less than 50 ms.
std::chrono::microseconds next_scan_in(
  std::chrono::microseconds every,
  std::optional<std::chrono::microseconds> peer_lease_left);

} // namespace hitl
