#pragma once

// The cluster feed (SPEC §8, "Reads across nodes"): what makes every node
// show the same truth whichever node wrote it. It reads the audit entries
// of every partition after the position it has seen, about every 100 ms,
// from the durable log (not from in-memory broadcasts, which a node that
// was away would miss), and for each one in chain order: marks what the
// read caches hold of its decision as old, releases the long-polls waiting
// for that decision to become final, and passes the event on to its
// listeners (the live stream). This node's own commits come from its
// auditor at once and take their place in the same order, so that a
// node's own events are not held back by the poll.

#include "actors/actor_failures.hpp"
#include "actors/atoms.hpp"
#include "actors/db_reader.hpp"
#include "actors/feed_audience.hpp"
#include "actors/messages.hpp"
#include "policy/partition.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace hitl {

class change_clock;

/// How far the feed has come, per partition: every entry up to it has
/// marked the caches. Written by the feed, read by any thread (the HTTP
/// edge's reads that ask for a position, X-HITL-Min-Position).
class feed_positions {
public:
  int64_t at(int partition) const {
    return seen_[static_cast<size_t>(partition)].load(
      std::memory_order_acquire);
  }
  void set(int partition, int64_t pseq) {
    seen_[static_cast<size_t>(partition)].store(pseq,
                                                std::memory_order_release);
  }

private:
  std::array<std::atomic<int64_t>, partition_count> seen_{};
};

/// Those who follow the feed: every event once, in chain order per
/// partition; `resync` when the feed lost its place (the database was away
/// too long) and events may have been missed: read everything again.
using feed_listener =
  caf::typed_actor<caf::reacts_to<atoms::event, committed_events>,
                   caf::reacts_to<atoms::resync>>;

/// `(event, committed_events)`: the node's own commits, from its auditor.
/// `(subscribe, feed_listener)`. `(wait, decision_wait) -> bool`: answered
/// true as soon as the decision is final (or unknown: the caller reads it),
/// false when the time is up.
using cluster_feed_actor = caf::typed_actor<
  caf::reacts_to<atoms::event, committed_events>,
  caf::reacts_to<atoms::subscribe, feed_listener>,
  caf::replies_to<atoms::wait, decision_wait>::with<bool>>;

struct cluster_feed_options {
  db_reader_actor reader;
  std::shared_ptr<change_clock> changes;
  std::shared_ptr<feed_positions> positions;
  /// Who follows the events; null: always read as if someone did.
  std::shared_ptr<const feed_audience> audience;
  /// Between reads when nothing is pending.
  std::chrono::milliseconds interval{100};
  /// How long the database may fail to answer before the feed gives up
  /// its place and tells its listeners to resync.
  std::chrono::milliseconds reset_after{5000};
  actor_failures failures;
};

cluster_feed_actor spawn_cluster_feed(caf::actor_system& sys,
                                      cluster_feed_options opts);

} // namespace hitl
