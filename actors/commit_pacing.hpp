#pragma once

#include <chrono>
#include <cstddef>

namespace hitl {

/// Whether the auditor sends another batch while one is in flight.
///
/// Each batch is a group commit of its own, with a fixed cost to PostgreSQL
/// and to the node that does not shrink with its size (the commit that
/// brought this has the figures). A second batch in flight overlaps the
/// database's work with the node's, which pays when it is not small. When
/// it is small and more writers are about, holding it until the first is
/// answered lets it grow. When only a few writers are about, nobody else
/// will join it (two clients that each wait for their answer): it goes at
/// once.
class commit_pacing {
public:
  using clock = std::chrono::steady_clock;

  /// The smallest batch sent beside another, when more writers than that
  /// were seen waiting at once within the last second or two.
  static constexpr size_t batch_beside_min = 4;

  /// `waiting`: the changes the auditor holds now, queued and in flight.
  void observe(size_t waiting, clock::time_point now) {
    if (now - window_start_ >= window) {
      previous_peak_ = now - window_start_ < 2 * window ? peak_ : 0;
      peak_ = 0;
      window_start_ = now;
    }
    if (waiting > peak_)
      peak_ = waiting;
  }

  /// Whether `queued` changes go out now while a batch is in flight.
  bool send_beside(size_t queued) const {
    return queued >= batch_beside_min
           || (peak_ > previous_peak_ ? peak_ : previous_peak_)
                <= batch_beside_min;
  }

private:
  static constexpr clock::duration window = std::chrono::seconds(1);
  size_t peak_ = 0;
  size_t previous_peak_ = 0;
  clock::time_point window_start_{};
};

} // namespace hitl
