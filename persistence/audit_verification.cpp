#include "persistence/audit_verification.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/connection_pool.hpp"

namespace hitl {

verification_report verify_audit_trail(connection_pool& pool) {
  constexpr int page = 5000;
  verification_report report;
  chain_verifier verifier;
  int64_t after = 0;
  // One snapshot for the whole walk, so that entries appended meanwhile do
  // not shift pages; the chain is append-only, so a repeatable read sees a
  // consistent prefix.
  pool.read([&](pqxx::transaction_base& txn) {
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
        return;
    }
  });
  report.checked = verifier.checked();
  report.head_hash = verifier.head();
  return report;
}

} // namespace hitl
