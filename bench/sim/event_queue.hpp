#pragma once

// The discrete-event core: events in time order, ties in the order they
// were scheduled, so that one seed gives one history.

#include "measured.hpp"

#include <cstdint>
#include <queue>
#include <vector>

namespace hitl::sim {

enum class event_kind : std::uint8_t {
  scan_tick,   ///< node: its membership timer fires
  scan_apply,  ///< database: the scan's transaction runs
  scan_reply,  ///< node: the scan's result arrives
  load_done,   ///< node: a partition's open decisions are loaded
  timer,       ///< node: an escalation timer fires
  batch_apply, ///< database: a group commit runs
  batch_reply, ///< node: the commit's result arrives
  crash,       ///< fault: kill -9
  pause,       ///< fault: SIGSTOP
  wake,        ///< fault: SIGCONT
  join,        ///< fault: a new node starts
};

/// Whether the event runs in a node's process (and so waits while it is
/// paused and vanishes when it was killed).
inline bool runs_in_node(event_kind k) {
  return k == event_kind::scan_tick || k == event_kind::scan_reply
         || k == event_kind::load_done || k == event_kind::timer
         || k == event_kind::batch_reply;
}

struct event {
  micros at = 0;
  std::uint64_t seq = 0;
  event_kind kind = event_kind::scan_tick;
  int node = -1;
  std::uint32_t incarnation = 0;
  int a = 0;               ///< partition or decision
  int b = 0;               ///< level
  std::uint32_t gen = 0;   ///< the partition's load generation on the node
  std::uint64_t payload = 0;
};

class event_queue {
public:
  void push(event e) {
    e.seq = next_seq_++;
    heap_.push(e);
  }
  bool empty() const {
    return heap_.empty();
  }
  event pop() {
    auto e = heap_.top();
    heap_.pop();
    return e;
  }
  micros next_time() const {
    return heap_.top().at;
  }

private:
  struct later {
    bool operator()(const event& x, const event& y) const {
      return x.at != y.at ? x.at > y.at : x.seq > y.seq;
    }
  };
  std::priority_queue<event, std::vector<event>, later> heap_;
  std::uint64_t next_seq_ = 0;
};

} // namespace hitl::sim
