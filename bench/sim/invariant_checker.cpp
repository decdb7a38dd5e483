#include "invariant_checker.hpp"

#include "policy/partition.hpp"

namespace hitl::sim {

namespace {

std::string at(micros t) {
  return " (database time " + std::to_string(double(t) / sec) + " s)";
}

} // namespace

invariant_checker::invariant_checker(int decisions)
  : epoch_(partition_count, 0),
    owner_(partition_count, -1),
    levels_(static_cast<std::size_t>(decisions), 0) {
}

void invariant_checker::on_acquire(micros t, int p, int node,
                                   std::int64_t epoch, bool previous_live) {
  auto i = static_cast<std::size_t>(p);
  if (epoch != epoch_[i] + 1)
    throw invariant_violation(
      "one accepted epoch per partition: partition " + std::to_string(p)
      + " acquired at epoch " + std::to_string(epoch) + " after epoch "
      + std::to_string(epoch_[i]) + at(t));
  if (owner_[i] >= 0 && owner_[i] != node && previous_live)
    throw invariant_violation(
      "one accepted epoch per partition: partition " + std::to_string(p)
      + " taken by node " + std::to_string(node) + " while node "
      + std::to_string(owner_[i]) + "'s lease still ran" + at(t));
  epoch_[i] = epoch;
  owner_[i] = node;
}

void invariant_checker::on_release(micros, int p, int node) {
  auto i = static_cast<std::size_t>(p);
  if (owner_[i] == node)
    owner_[i] = -1;
}

void invariant_checker::on_commit(micros t, int p, int node,
                                  std::int64_t epoch, int decision,
                                  int level) {
  auto i = static_cast<std::size_t>(p);
  if (owner_[i] != node || epoch != epoch_[i])
    throw invariant_violation(
      "one accepted epoch per partition: partition " + std::to_string(p)
      + " accepted a commit of node " + std::to_string(node) + " at epoch "
      + std::to_string(epoch) + " while epoch " + std::to_string(epoch_[i])
      + " (node " + std::to_string(owner_[i]) + ") holds it" + at(t));
  auto& have = levels_[static_cast<std::size_t>(decision)];
  if (level <= have)
    throw invariant_violation(
      "one commit per (decision, level): decision " + std::to_string(decision)
      + " level " + std::to_string(level) + " committed again by node "
      + std::to_string(node) + at(t));
  if (level != have + 1)
    throw invariant_violation(
      "levels in order: decision " + std::to_string(decision) + " went from "
      + std::to_string(have) + " to " + std::to_string(level) + at(t));
  have = level;
  ++commits_;
}

} // namespace hitl::sim
