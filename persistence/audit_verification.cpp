#include "persistence/audit_verification.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_chain_reader.hpp"
#include "persistence/token_trail.hpp"

namespace hitl {

verification_report verify_audit_trail(connection_pool& pool) {
  constexpr int page = 5000;
  verification_report report;
  chain_verifier verifier;
  decision_cross_check decisions{max_reported_mismatches};
  int64_t after = 0;
  // One snapshot for the whole walk, so that entries appended meanwhile do
  // not shift pages; the chain is append-only, so a repeatable read sees a
  // consistent prefix. The decisions are read in the same snapshot, where
  // each committed change has its entry (they commit together).
  pool.read([&](pqxx::transaction_base& txn) {
    verifier = chain_verifier{};
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
    read_decisions_against_chain(txn, decisions);
    report.tokens = check_tokens_against_chain(txn, max_reported_mismatches);
  });
  report.checked = verifier.checked();
  report.head_hash = verifier.head();
  report.decisions_checked = decisions.decisions();
  report.mismatch_count = decisions.mismatch_count();
  report.mismatches = decisions.mismatches();
  return report;
}

} // namespace hitl
