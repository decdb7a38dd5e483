#include "persistence/checkpoint_verification.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/checkpoint_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "policy/audit_chain.hpp"

#include <algorithm>

namespace hitl {

namespace {

constexpr int verify_page = 5000;

// Walks checkpoints in seq order beside the chain.
class checkpoint_walk {
public:
  explicit checkpoint_walk(std::vector<sourced_checkpoint> points)
    : points_(std::move(points)) {
    std::stable_sort(points_.begin(), points_.end(),
                     [](const auto& a, const auto& b) {
                       return a.checkpoint.seq < b.checkpoint.seq;
                     });
  }

  // `e` verified, and it is the `count`th entry of the chain.
  void entry(const audit_entry& e, int64_t count) {
    for (; next_ < points_.size() && points_[next_].checkpoint.seq <= e.seq;
         ++next_) {
      const auto& p = points_[next_];
      const auto& c = p.checkpoint;
      if (c.seq < e.seq)
        contradict(p, "the chain has no entry at seq " + std::to_string(c.seq)
                        + " (it goes on at seq " + std::to_string(e.seq)
                        + ")");
      else if (c.hash != e.hash)
        contradict(p, "hash differs: the checkpoint says " + c.hash
                        + ", the chain has " + e.hash);
      else if (c.count != count)
        contradict(p, "count differs: the checkpoint says "
                        + std::to_string(c.count) + " entries up to seq "
                        + std::to_string(c.seq) + ", the chain has "
                        + std::to_string(count));
      else
        ++result_.confirmed;
    }
  }

  // The walk stopped: at a break (the chain does not verify from `seq`
  // on) or at the end of the chain.
  void rest(const std::string& why) {
    for (; next_ < points_.size(); ++next_)
      contradict(points_[next_], why);
  }

  checkpoint_check result() const {
    return result_;
  }

private:
  void contradict(const sourced_checkpoint& p, std::string message) {
    ++result_.contradicted;
    if (!result_.first_contradiction)
      result_.first_contradiction = checkpoint_contradiction{
        p.where, p.checkpoint.seq, std::move(message)};
  }

  std::vector<sourced_checkpoint> points_;
  size_t next_ = 0;
  checkpoint_check result_;
};

} // namespace

checkpoint_check check_chain_against(connection_pool& pool,
                                     std::vector<sourced_checkpoint> points) {
  checkpoint_check out;
  pool.read([&](pqxx::transaction_base& txn) {
    checkpoint_walk walk{points};
    chain_verifier verifier;
    int64_t after = 0;
    int64_t last_seq = 0;
    for (;;) {
      auto entries = read_audit_entries(txn, after, verify_page);
      for (const auto& e : entries) {
        if (auto br = verifier.feed(e)) {
          walk.rest("the chain does not verify up to it: it breaks at seq "
                    + std::to_string(br->seq) + " (" + br->message + ")");
          out = walk.result();
          return;
        }
        walk.entry(e, verifier.checked());
        after = last_seq = e.seq;
      }
      if (entries.size() < static_cast<size_t>(verify_page))
        break;
    }
    walk.rest("beyond the end of the chain, which has "
              + std::to_string(verifier.checked()) + " entries and ends at seq "
              + std::to_string(last_seq));
    out = walk.result();
  });
  return out;
}

std::vector<sourced_checkpoint> read_stored_checkpoints(connection_pool& pool) {
  std::vector<sourced_checkpoint> out;
  pool.read([&](pqxx::transaction_base& txn) {
    out.clear();
    int64_t after = 0;
    for (;;) {
      auto rows = read_checkpoints(txn, after, verify_page);
      for (auto& r : rows) {
        after = r.id;
        out.push_back({"hitl_audit_checkpoints id " + std::to_string(r.id),
                       std::move(r.checkpoint)});
      }
      if (rows.size() < static_cast<size_t>(verify_page))
        break;
    }
  });
  return out;
}

} // namespace hitl
