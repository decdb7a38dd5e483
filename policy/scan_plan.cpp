#include "policy/scan_plan.hpp"

#include <algorithm>

namespace hitl {

scan_plan plan_scan(std::string_view me,
                    const std::map<int, std::int64_t>& held,
                    const std::vector<std::string>& live,
                    const std::vector<partition_row>& rows,
                    std::size_t max_release) {
  scan_plan out;
  std::vector<std::optional<std::string>> live_owner;
  live_owner.reserve(rows.size());
  for (const auto& r : rows)
    live_owner.push_back(r.owner);
  std::vector<partition_lease> stale;
  for (int p = 0; p < partition_count && p < static_cast<int>(rows.size());
       ++p) {
    const auto& r = rows[static_cast<std::size_t>(p)];
    if (r.owner == me && held.count(p) == 0) {
      stale.push_back({partition_id{p}, r.epoch});
      live_owner[static_cast<std::size_t>(p)].reset();
    }
  }
  for (const auto& [p, epoch] : held) {
    const auto& r = rows.at(static_cast<std::size_t>(p));
    if (r.owner != me || r.epoch != epoch)
      out.lost.push_back(p);
  }
  auto plan = plan_ownership(me, live, live_owner, max_release);
  for (auto p : plan.release) {
    auto at = held.find(p.value);
    if (at != held.end()
        && std::find(out.lost.begin(), out.lost.end(), p.value)
             == out.lost.end())
      out.release.push_back({p, at->second});
  }
  for (const auto& l : stale)
    if (std::find(plan.acquire.begin(), plan.acquire.end(), l.partition)
        == plan.acquire.end())
      out.release.push_back(l);
  out.acquire = std::move(plan.acquire);
  return out;
}

std::chrono::microseconds next_scan_in(
  std::chrono::microseconds every,
  std::optional<std::chrono::microseconds> peer_lease_left) {
  using namespace std::chrono_literals;
  // Past the lease's end by more than a scan's own network round trip and
  // the gap between the database's now() of two transactions.
  constexpr auto margin = 100ms;
  constexpr auto shortest = std::chrono::microseconds{50ms};
  if (!peer_lease_left)
    return every;
  auto wait = *peer_lease_left + margin;
  return std::clamp(wait, std::min(shortest, every), every);
}

} // namespace hitl
