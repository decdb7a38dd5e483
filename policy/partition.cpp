#include "policy/partition.hpp"

#include "policy/sha256.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace hitl {

namespace {

std::uint64_t hex_prefix(std::string_view hex, std::size_t digits) {
  std::uint64_t v = 0;
  std::from_chars(hex.data(), hex.data() + digits, v, 16);
  return v;
}

} // namespace

std::string node_id_from(std::string_view seed) {
  auto hex = sha256_hex(seed).substr(0, 32);
  hex[12] = '8'; // version 8 (RFC 9562): custom, here SHA-256 of a name
  static constexpr char variant[] = "89ab";
  hex[16] = variant[hex_prefix(hex.substr(16, 1), 1) & 3]; // RFC 4122 variant
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4)
         + "-" + hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

bool is_node_id(std::string_view text) {
  if (text.size() != 36)
    return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

partition_id partition_of(std::string_view patch_id) {
  return partition_id{static_cast<int>(hex_prefix(sha256_hex(patch_id), 2))};
}

std::uint64_t rendezvous_weight(partition_id p, std::string_view node) {
  std::string key;
  key.reserve(node.size() + 4);
  key.append(node).append("/").append(std::to_string(p.value));
  return hex_prefix(sha256_hex(key), 16);
}

std::optional<std::string> preferred_owner(
  partition_id p, const std::vector<std::string>& nodes) {
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

int partition_cap(std::size_t nodes) {
  if (nodes == 0)
    return 0;
  // ceil(256 * 1.1 / n) in integers: 2816 / (10 n), rounded up.
  auto n = static_cast<int>(nodes);
  return (partition_count * 11 + 10 * n - 1) / (10 * n);
}

std::vector<std::string> assign_partitions(
  const std::vector<std::string>& nodes) {
  std::vector<std::string> owner;
  if (nodes.empty())
    return owner;
  owner.reserve(partition_count);
  auto cap = partition_cap(nodes.size());
  std::vector<int> load(nodes.size(), 0);
  std::vector<std::pair<std::uint64_t, std::size_t>> order(nodes.size());
  for (int p = 0; p < partition_count; ++p) {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      order[i] = {rendezvous_weight(partition_id{p}, nodes[i]), i};
    // Highest weight first; equal weights: the smaller node id first.
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first
                                : nodes[a.second] < nodes[b.second];
    });
    for (const auto& [weight, i] : order)
      if (load[i] < cap) {
        ++load[i];
        owner.push_back(nodes[i]);
        break;
      }
  }
  return owner;
}

ownership_plan plan_ownership(
  std::string_view me, const std::vector<std::string>& live,
  const std::vector<std::optional<std::string>>& owners,
  std::size_t max_release) {
  ownership_plan plan;
  auto target = assign_partitions(live);
  // Per receiving node: a cluster that starts together (the first node
  // took all 256) spreads in one or two scans, and each node still takes
  // over no more than max_release a scan.
  std::map<std::string_view, std::size_t> handed;
  if (target.empty())
    return plan; // no live node, not even me: nothing to do
  for (int i = 0; i < partition_count && i < static_cast<int>(owners.size());
       ++i) {
    partition_id p{i};
    const auto& owner = owners[static_cast<std::size_t>(i)];
    const auto& preferred = target[static_cast<std::size_t>(i)];
    if (!owner) {
      if (preferred == me)
        plan.acquire.push_back(p);
    } else if (*owner == me && preferred != me
               && handed[preferred] < max_release) {
      ++handed[preferred];
      plan.release.push_back(p);
    }
  }
  return plan;
}

} // namespace hitl
