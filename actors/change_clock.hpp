#pragma once

// Generation counters that the auditor advances after every commit, so that
// what was read before a commit can be recognised as old without locking:
// a reader notes the generation, reads, and its result is valid for as long
// as the generation has not moved. Per decision (hashed into shards) and one
// for the open queue as a whole. Plain atomics: no framework, any thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace hitl {

class change_clock {
public:
  // A commit makes every cached read of its shard look old. With 4096
  // shards, 1,300 writes a second (the mixed benchmark) made most cached
  // decisions look old within seconds, and 46 % of the reads of decisions
  // that no one was changing went to PostgreSQL. 65,536 (512 KiB) keep a
  // shard untouched for about 50 s at that rate.
  static constexpr size_t shards = 65536;

  /// The generation of `decision_id`'s shard.
  uint64_t decision(std::string_view decision_id) const {
    return decisions_[shard(decision_id)].load(std::memory_order_acquire);
  }

  /// The generation of the open queue (what GET pending shows).
  uint64_t queue() const {
    return queue_.load(std::memory_order_acquire);
  }

  /// Called by the auditor after COMMIT and before it answers, so that a
  /// client who got the answer never reads what came before it.
  void decision_changed(std::string_view decision_id) {
    decisions_[shard(decision_id)].fetch_add(1, std::memory_order_acq_rel);
  }
  void queue_changed() {
    queue_.fetch_add(1, std::memory_order_acq_rel);
  }
  /// Everything cached is old: when commits may have been missed (the
  /// cluster feed lost its place).
  void everything_changed() {
    for (auto& d : decisions_)
      d.fetch_add(1, std::memory_order_acq_rel);
    queue_changed();
  }

private:
  static size_t shard(std::string_view id) {
    return std::hash<std::string_view>{}(id) % shards;
  }

  std::array<std::atomic<uint64_t>, shards> decisions_{};
  std::atomic<uint64_t> queue_{0};
};

} // namespace hitl
