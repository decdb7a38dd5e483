#include "persistence/checkpoint_verification.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/checkpoint_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "policy/audit_chain.hpp"

#include <algorithm>
#include <array>

namespace hitl {

namespace {

constexpr int verify_page = 5000;

// The chains a checkpoint speaks of: the common prefix, then partition p at
// 1 + p.
constexpr size_t prefix_chain = 0;
constexpr size_t chain_count = 1 + partition_count;

size_t chain_of(const audit_entry& e) {
  return e.link ? 1 + static_cast<size_t>(e.link->partition.value)
                : prefix_chain;
}

std::string entry_name(size_t chain, int64_t place) {
  if (chain == prefix_chain)
    return "entry " + std::to_string(place);
  return "partition " + std::to_string(chain - 1) + " entry "
         + std::to_string(place);
}

// What one checkpoint says about one chain: the entry at `place` has `hash`.
struct expectation {
  size_t point = 0;
  int64_t place = 0;
  std::string hash;
};

// Walks checkpoints beside the chains, each chain in order of place.
class checkpoint_walk {
public:
  explicit checkpoint_walk(std::vector<sourced_checkpoint> points)
    : points_(std::move(points)), faults_(points_.size()) {
    for (size_t i = 0; i < points_.size(); ++i) {
      const auto& c = points_[i].checkpoint;
      if (!c.heads) {
        // Of the single chain, which is dense from 1: its count is its seq.
        expect(prefix_chain, i, c.seq, c.hash);
        if (c.count != c.seq)
          contradict(i, "count differs: the checkpoint says "
                          + std::to_string(c.count) + " entries up to seq "
                          + std::to_string(c.seq) + ", the chain has "
                          + std::to_string(c.seq));
        continue;
      }
      if (c.heads->prefix.seq > 0)
        expect(prefix_chain, i, c.heads->prefix.seq, c.heads->prefix.hash);
      for (size_t p = 0; p < c.heads->partitions.size(); ++p) {
        const auto& h = c.heads->partitions[p];
        if (h.seq > 0)
          expect(1 + p, i, h.seq, h.hash);
      }
    }
    for (auto& list : expected_)
      std::stable_sort(list.begin(), list.end(),
                       [](const auto& a, const auto& b) {
                         return a.place < b.place;
                       });
  }

  // `e` verified.
  void entry(const audit_entry& e) {
    auto chain = chain_of(e);
    auto place = e.link ? e.link->pseq : e.seq;
    auto& list = expected_[chain];
    auto& next = next_[chain];
    for (; next < list.size() && list[next].place <= place; ++next) {
      const auto& x = list[next];
      if (x.place < place)
        contradict(x.point, "the chain has no " + entry_name(chain, x.place)
                              + " (it goes on at "
                              + entry_name(chain, place) + ")");
      else if (x.hash != e.hash)
        contradict(x.point, "hash of " + entry_name(chain, x.place)
                              + " differs: the checkpoint says " + x.hash
                              + ", the chain has " + e.hash);
    }
  }

  // The walk stopped: at a break (the chains do not verify from there on)
  // or at their end.
  void rest(const std::string& why) {
    for (size_t chain = 0; chain < chain_count; ++chain)
      for (auto& next = next_[chain]; next < expected_[chain].size(); ++next)
        contradict(expected_[chain][next].point, why);
  }

  // Each chain's end as walked, for what is expected past it.
  void ends(const chain_heads& heads) {
    for (size_t chain = 0; chain < chain_count; ++chain) {
      auto last = chain == prefix_chain ? heads.prefix.seq
                                        : heads.partitions[chain - 1].seq;
      for (auto& next = next_[chain]; next < expected_[chain].size(); ++next)
        contradict(expected_[chain][next].point,
                   "beyond the end of the chain: there is no "
                     + entry_name(chain, expected_[chain][next].place)
                     + " (the chain ends at "
                     + entry_name(chain, last) + ")");
    }
  }

  // The first contradiction of the checkpoint with the lowest seq.
  checkpoint_check result() const {
    checkpoint_check out;
    for (size_t i = 0; i < points_.size(); ++i) {
      if (!faults_[i]) {
        ++out.confirmed;
        continue;
      }
      ++out.contradicted;
      const auto& p = points_[i];
      if (!out.first_contradiction
          || p.checkpoint.seq < out.first_contradiction->seq)
        out.first_contradiction =
          checkpoint_contradiction{p.where, p.checkpoint.seq, *faults_[i]};
    }
    return out;
  }

private:
  void expect(size_t chain, size_t point, int64_t place,
              const std::string& hash) {
    expected_[chain].push_back({point, place, hash});
  }

  void contradict(size_t point, std::string message) {
    if (!faults_[point])
      faults_[point] = std::move(message);
  }

  std::vector<sourced_checkpoint> points_;
  std::vector<std::optional<std::string>> faults_;
  std::array<std::vector<expectation>, chain_count> expected_;
  std::array<size_t, chain_count> next_{};
};

} // namespace

checkpoint_check check_chain_against(connection_pool& pool,
                                     std::vector<sourced_checkpoint> points) {
  checkpoint_check out;
  pool.read([&](pqxx::transaction_base& txn) {
    checkpoint_walk walk{points};
    chains_verifier verifier;
    int64_t after = 0;
    for (;;) {
      auto entries = read_audit_entries(txn, after, verify_page);
      for (const auto& e : entries) {
        if (auto br = verifier.feed(e)) {
          walk.rest("the chain does not verify up to it: it breaks at seq "
                    + std::to_string(br->seq) + " (" + br->message + ")");
          out = walk.result();
          return;
        }
        walk.entry(e);
        after = e.seq;
      }
      if (entries.size() < static_cast<size_t>(verify_page))
        break;
    }
    walk.ends(verifier.heads());
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
