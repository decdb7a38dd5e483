#include "database_model.hpp"

#include <algorithm>
#include <stdexcept>

namespace hitl::sim {

database_model::database_model(std::vector<std::string> node_ids,
                               int decisions)
  : level(static_cast<std::size_t>(decisions), 0),
    ids_(std::move(node_ids)),
    lease_until_(ids_.size(), -1),
    owner_(partition_count, -1),
    epoch_(partition_count, 0) {
}

void database_model::renew(int node, micros t) {
  lease_until_[static_cast<std::size_t>(node)] = t + lease_length;
}

bool database_model::live(int node, micros t) const {
  return node >= 0 && lease_until_[static_cast<std::size_t>(node)] > t;
}

std::vector<std::string> database_model::live_ids(micros t) const {
  std::vector<std::string> out;
  for (std::size_t n = 0; n < ids_.size(); ++n)
    if (live(static_cast<int>(n), t))
      out.push_back(ids_[n]);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<micros> database_model::peer_lease_left(int node,
                                                      micros t) const {
  std::optional<micros> out;
  for (std::size_t n = 0; n < ids_.size(); ++n)
    if (static_cast<int>(n) != node && live(static_cast<int>(n), t)) {
      auto left = lease_until_[n] - t;
      if (!out || left < *out)
        out = left;
    }
  return out;
}

std::vector<partition_row> database_model::rows(micros t) const {
  std::vector<partition_row> out(partition_count);
  for (int p = 0; p < partition_count; ++p) {
    auto i = static_cast<std::size_t>(p);
    if (live(owner_[i], t))
      out[i].owner = ids_[static_cast<std::size_t>(owner_[i])];
    out[i].epoch = epoch_[i];
  }
  return out;
}

std::vector<partition_lease> database_model::acquire(
  int node, const std::vector<partition_id>& ps, micros t) {
  std::vector<partition_lease> out;
  if (!live(node, t))
    return out;
  for (auto p : ps) {
    auto i = static_cast<std::size_t>(p.value);
    if (owner_[i] < 0 || owner_[i] == node || !live(owner_[i], t)) {
      owner_[i] = node;
      epoch_[i] += 1;
      out.push_back({p, epoch_[i]});
    }
  }
  return out;
}

std::vector<partition_id> database_model::release(
  int node, const std::vector<partition_lease>& ls) {
  std::vector<partition_id> out;
  for (const auto& l : ls) {
    auto i = static_cast<std::size_t>(l.partition.value);
    if (owner_[i] == node && epoch_[i] == l.epoch) {
      owner_[i] = -1;
      out.push_back(l.partition);
    }
  }
  return out;
}

bool database_model::holds(int node, partition_lease l) const {
  auto i = static_cast<std::size_t>(l.partition.value);
  return owner_[i] == node && epoch_[i] == l.epoch;
}

int database_model::index_of(const std::string& id) const {
  auto it = std::find(ids_.begin(), ids_.end(), id);
  if (it == ids_.end())
    throw std::logic_error("unknown node id " + id);
  return static_cast<int>(it - ids_.begin());
}

} // namespace hitl::sim
