#include "persistence/token_trail.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/batch_writes.hpp"
#include "persistence/token_sql.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

namespace hitl {

audit_entry token_entry(audit_action action, const token_info& token,
                        const std::string& performed_by,
                        const std::optional<std::string>& db_user) {
  nlohmann::json details{{"token_id", token.id},
                         {"name", token.name},
                         {"role", std::string{to_string(token.role)}}};
  if (action != audit_action::token_revoked)
    details["expires_at"] = token.expires_at
                              ? nlohmann::json(format_iso(*token.expires_at))
                              : nlohmann::json(nullptr);
  if (db_user)
    details["db_user"] = *db_user;
  audit_entry e;
  e.action = action;
  e.performed_by = performed_by;
  e.at = now();
  e.details_json = canonical_details(details);
  return e;
}

partition_id token_partition(int64_t token_id) {
  return partition_of("token/" + std::to_string(token_id));
}

audit_entry append_token_entry(pqxx::transaction_base& txn, int64_t token_id,
                               audit_entry e) {
  auto chain = lock_partition_chain(txn, token_partition(token_id));
  e.link = chain_link{chain.partition, 0, chain.epoch};
  batch_rows rows;
  rows.chains.push_back({chain.partition, chain.epoch, chain.head, {}});
  seal_next(chain.head, e);
  rows.chains.back().after = chain.head;
  rows.entries.push_back(e);
  write_batch(txn, rows);
  return e;
}

bool has_token_entry(pqxx::transaction_base& txn, int64_t token_id,
                     audit_action action) {
  return !txn
            .exec_prepared(sql::token_trail_has.name, token_id,
                           std::string{to_string(action)})
            .empty();
}

std::string session_user(pqxx::transaction_base& txn) {
  return txn.exec_prepared(sql::token_trail_session_user.name)[0][0]
    .as<std::string>();
}

token_check check_tokens_against_chain(pqxx::transaction_base& txn,
                                       size_t limit) {
  token_check out;
  for (const auto& r : txn.exec_prepared(sql::token_trail_check.name)) {
    out.tokens_checked += 1;
    auto id = r[0].as<int64_t>();
    auto name = r[1].as<std::string>();
    auto who = "token " + std::to_string(id) + " ('" + name + "', "
               + r[2].as<std::string>() + ")";
    std::vector<std::string> faults;
    bool before_trail = r[3].as<bool>();
    if (r[4].is_null()) {
      if (before_trail)
        out.issued_before_trail += 1;
      else
        faults.push_back(who + " has no token_created entry: it was not "
                               "issued by `hitl token create`");
    } else if (r[4].as<std::string>() != name
               || r[5].as<std::string>() != r[2].as<std::string>()) {
      faults.push_back(who + " differs from its token_created entry (seq "
                       + r[6].as<std::string>() + ": '"
                       + r[4].as<std::string>() + "', "
                       + r[5].as<std::string>() + ")");
    }
    if (r[7].as<bool>())
      faults.push_back(who + " is revoked but has no token_revoked entry");
    for (auto& f : faults) {
      out.mismatch_count += 1;
      if (out.mismatches.size() < limit)
        out.mismatches.push_back({id, name, std::move(f)});
    }
  }
  return out;
}

} // namespace hitl
