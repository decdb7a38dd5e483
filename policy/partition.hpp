#pragma once

// Where an open decision lives when several nodes share one database
// (SPEC §8): its patch id names one of 256 partitions, and each partition
// has one owner among the live nodes. Both are pure functions, so every
// node, the database (hitl_partition_of) and the simulation agree on them
// without asking anyone.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

inline constexpr int partition_count = 256;

/// A partition number, 0 ≤ value < partition_count.
struct partition_id {
  int value = 0;
  friend bool operator==(partition_id a, partition_id b) {
    return a.value == b.value;
  }
  friend bool operator!=(partition_id a, partition_id b) {
    return !(a == b);
  }
};

/// A node id (a UUID, version 8: name-based, SHA-256) derived from `seed`:
/// the same seed, the same id. Serve seeds it with the host name and its
/// listen address, so that a node restarted where it ran before is the
/// same node and takes its partitions back at once.
std::string node_id_from(std::string_view seed);

/// Whether `text` is a UUID in its canonical lowercase form.
bool is_node_id(std::string_view text);

/// A partition held at a fencing epoch: what a node writes under.
struct partition_lease {
  partition_id partition;
  std::int64_t epoch = 0;
};

/// The first byte of SHA-256 of the patch id, as SQL's hitl_partition_of.
partition_id partition_of(std::string_view patch_id);

/// Rendezvous (highest random weight) hashing: the node whose weight for
/// the partition is highest, ties broken by the smaller node id;
/// std::nullopt with no nodes. A node that leaves moves only its own
/// partitions, and one that joins takes about 1/n of everyone's.
std::optional<std::string> preferred_owner(
  partition_id p, const std::vector<std::string>& nodes);

/// The rendezvous weight of (partition, node): the first 8 bytes of
/// SHA-256 of "<node>/<partition>", big-endian.
std::uint64_t rendezvous_weight(partition_id p, std::string_view node);

/// The most partitions one of `nodes` live nodes is assigned: its fair
/// share plus 10 %, rounded up (18 of 256 among 16 nodes).
int partition_cap(std::size_t nodes);

/// Who should own each partition (index = partition number; empty with no
/// nodes): rendezvous hashing with bounded loads. Partitions in order each
/// go to the node of highest weight that has fewer than partition_cap; a
/// node's weights only see its own id, so every node computes the same
/// answer from the same live set, in any order. Plain rendezvous hashing
/// leaves 16 nodes holding 8 to 24 partitions (fair: 16); the cap keeps the
/// busiest at 18, for a few more partitions moved per membership change
/// (policy/partition_test.cpp measures both).
std::vector<std::string> assign_partitions(
  const std::vector<std::string>& nodes);

/// One membership scan's moves for node `me`: `live` are the nodes whose
/// lease runs (me among them), `owners[p]` the live owner of partition p
/// (std::nullopt when nobody holds it or its owner's lease ran out).
struct ownership_plan {
  /// Unowned partitions that assign_partitions gives me.
  std::vector<partition_id> acquire;
  /// Partitions I hold that assign_partitions gives another live node (a
  /// node joined or left): at most `max_release` a scan to each such node,
  /// so that a joining node takes work over gradually and each moved
  /// partition is unavailable only briefly.
  std::vector<partition_id> release;
};

ownership_plan plan_ownership(
  std::string_view me, const std::vector<std::string>& live,
  const std::vector<std::optional<std::string>>& owners,
  std::size_t max_release);

} // namespace hitl
