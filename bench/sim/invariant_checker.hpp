#pragma once

// The invariants of SPEC §8, checked on every event against the
// checker's own record of what the database granted and accepted (not the
// database model's fence, which --break can turn off): one accepted epoch
// per partition at any database time, one commit per (decision, level),
// levels in order. A violation throws, naming it.

#include "measured.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace hitl::sim {

struct invariant_violation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class invariant_checker {
public:
  explicit invariant_checker(int decisions);

  /// `node` took partition `p` at `epoch`; `previous_live` says whether the
  /// previous owner (another node) still had a running lease.
  void on_acquire(micros t, int p, int node, std::int64_t epoch,
                  bool previous_live);
  void on_release(micros t, int p, int node);
  /// The database accepted `node`'s commit of `level` for `decision` in
  /// partition `p` under `epoch`.
  void on_commit(micros t, int p, int node, std::int64_t epoch, int decision,
                 int level);

  int committed_level(int decision) const {
    return levels_[static_cast<std::size_t>(decision)];
  }
  std::uint64_t commits() const {
    return commits_;
  }

private:
  std::vector<std::int64_t> epoch_;
  std::vector<int> owner_;
  std::vector<int> levels_;
  std::uint64_t commits_ = 0;
};

} // namespace hitl::sim
