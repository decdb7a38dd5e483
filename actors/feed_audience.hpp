#pragma once

// Whether anyone on this node follows the cluster feed's events: the live
// stream's clients. The feed shows each remote entry with its decision's
// record, read from the database; with nobody to show it to, a read brings
// the entries alone (positions, decision ids, actions), which is all the
// caches and the long-polls need. Written by the HTTP edge as clients come
// and go, read by the feed before each read; thread-safe.

#include <atomic>
#include <cstddef>

namespace hitl {

class feed_audience {
public:
  void set(size_t clients) {
    clients_.store(clients, std::memory_order_release);
  }
  bool any() const {
    return clients_.load(std::memory_order_acquire) > 0;
  }

private:
  std::atomic<size_t> clients_{0};
};

} // namespace hitl
