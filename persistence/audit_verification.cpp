#include "persistence/audit_verification.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_chain_reader.hpp"
#include "persistence/token_trail.hpp"

namespace hitl {

namespace {

// Where the chains end as the walk found them, against where the database
// says they end: the prefix's row (021) and each partition's head. Rows
// removed from a chain's end, which the chains cannot show themselves,
// leave a head with nothing at it. The break names the seq of the chain's
// last entry found.
std::optional<chain_break> check_heads(pqxx::transaction_base& txn,
                                       const chains_verifier& verifier) {
  auto walked = verifier.heads();
  auto prefix = read_prefix_end(txn);
  if (prefix != walked.prefix)
    return chain_break{walked.prefix.seq, break_kind::removed,
                       "the common prefix ends at entry "
                         + std::to_string(walked.prefix.seq)
                         + ", but hitl_audit_prefix says entry "
                         + std::to_string(prefix.seq) + " ("
                         + prefix.hash.substr(0, 12) + ")"};
  for (const auto& row : read_partition_chains(txn)) {
    const auto& found = walked.partitions.at(
      static_cast<size_t>(row.partition.value));
    if (row.head == found)
      continue;
    auto p = std::to_string(row.partition.value);
    auto kind = row.head.seq > found.seq ? break_kind::removed
                                         : break_kind::inserted_or_reordered;
    return chain_break{verifier.last_seq(row.partition), kind,
                       "partition " + p + "'s chain ends at entry "
                         + std::to_string(found.seq) + " ("
                         + found.hash.substr(0, 12)
                         + "), but its row says entry "
                         + std::to_string(row.head.seq) + " ("
                         + row.head.hash.substr(0, 12) + ")"};
  }
  return std::nullopt;
}

} // namespace

verification_report verify_audit_trail(connection_pool& pool) {
  constexpr int page = 5000;
  verification_report report;
  chains_verifier verifier;
  decision_cross_check decisions{max_reported_mismatches};
  int64_t after = 0;
  // One snapshot for the whole walk, so that entries appended meanwhile do
  // not shift pages; the chain is append-only, so a repeatable read sees a
  // consistent prefix. The decisions are read in the same snapshot, where
  // each committed change has its entry (they commit together).
  pool.read([&](pqxx::transaction_base& txn) {
    verifier = chains_verifier{};
    decisions = decision_cross_check{max_reported_mismatches};
    report.first_break.reset();
    after = 0;
    for (;;) {
      auto entries = read_audit_entries(txn, after, page);
      for (const auto& e : entries) {
        if (auto br = verifier.feed(e)) {
          report.first_break = std::move(br);
          break;
        }
        after = e.seq;
      }
      if (report.first_break || entries.size() < static_cast<size_t>(page))
        break;
    }
    if (!report.first_break)
      report.first_break = check_heads(txn, verifier);
    read_decisions_against_chain(txn, decisions);
    report.tokens = check_tokens_against_chain(txn, max_reported_mismatches);
  });
  report.checked = verifier.checked();
  report.head_hash = chains_root(verifier.heads());
  report.decisions_checked = decisions.decisions();
  report.mismatch_count = decisions.mismatch_count();
  report.mismatches = decisions.mismatches();
  return report;
}

} // namespace hitl
