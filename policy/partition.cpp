#include "policy/partition.hpp"

#include "policy/sha256.hpp"

#include <charconv>

namespace hitl {

namespace {

std::uint64_t hex_prefix(std::string_view hex, std::size_t digits) {
  std::uint64_t v = 0;
  std::from_chars(hex.data(), hex.data() + digits, v, 16);
  return v;
}

} // namespace

partition_id partition_of(std::string_view patch_id) {
  return partition_id{static_cast<int>(hex_prefix(sha256_hex(patch_id), 2))};
}

std::uint64_t rendezvous_weight(partition_id p, std::string_view node) {
  std::string key;
  key.reserve(node.size() + 4);
  key.append(node).append("/").append(std::to_string(p.value));
  return hex_prefix(sha256_hex(key), 16);
}

std::optional<std::string> preferred_owner(partition_id p,
                                           const std::vector<std::string>& nodes) {
  const std::string* best = nullptr;
  std::uint64_t best_weight = 0;
  for (const auto& n : nodes) {
    auto w = rendezvous_weight(p, n);
    if (best == nullptr || w > best_weight || (w == best_weight && n < *best)) {
      best = &n;
      best_weight = w;
    }
  }
  if (best == nullptr)
    return std::nullopt;
  return *best;
}

ownership_plan plan_ownership(std::string_view me,
                              const std::vector<std::string>& live,
                              const std::vector<std::optional<std::string>>& owners,
                              std::size_t max_release) {
  ownership_plan plan;
  for (int i = 0; i < partition_count && i < static_cast<int>(owners.size()); ++i) {
    partition_id p{i};
    const auto& owner = owners[static_cast<std::size_t>(i)];
    auto preferred = preferred_owner(p, live);
    if (!preferred)
      break; // no live node, not even me: nothing to do
    if (!owner) {
      if (*preferred == me)
        plan.acquire.push_back(p);
    } else if (*owner == me && *preferred != me
               && plan.release.size() < max_release) {
      plan.release.push_back(p);
    }
  }
  return plan;
}

} // namespace hitl
