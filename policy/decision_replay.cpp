#include "policy/decision_replay.hpp"

#include "policy/approval_rule.hpp"
#include "policy/lifecycle.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace hitl {

namespace {

using json = nlohmann::json;

// -- rendering ----------------------------------------------------------------

std::string in_quotes(std::string_view s) {
  return "'" + std::string{s} + "'";
}

std::string in_quotes_or_null(const std::optional<std::string>& s) {
  return s ? in_quotes(*s) : "null";
}

std::string listed(const std::vector<std::string>& names) {
  std::string out = "[";
  for (const auto& n : names)
    out += (out.size() > 1 ? ", " : "") + n;
  return out + "]";
}

decision_mismatch differs(const std::string& id, const std::string& field,
                          std::string in_table, std::string in_chain) {
  auto table = field == "approvals" ? "hitl_approvals" : "hitl_decisions";
  auto verb = field == "approvals" ? " are " : " is ";
  auto message = "decision " + id + ": " + field + verb + in_table + " in "
                 + table + " but the audit chain says " + in_chain;
  return {id, field, std::move(in_table), std::move(in_chain),
          std::move(message)};
}

decision_mismatch remark(const std::string& id, const std::string& field,
                         const std::string& what) {
  return {id, field, {}, {}, "decision " + id + ": " + what};
}

// -- the entries' details -----------------------------------------------------

// An entry's details, read leniently: a value that is missing or of another
// type reads as none, and the replay refuses the entry that needs it.
class details_reader {
public:
  explicit details_reader(const std::string& text)
    : doc_(json::parse(text, nullptr, false)) {
    if (doc_.is_discarded() || !doc_.is_object())
      doc_ = json::object();
  }

  std::optional<int64_t> integer(const char* key) const {
    auto it = doc_.find(key);
    if (it == doc_.end() || !it->is_number_integer())
      return std::nullopt;
    return it->get<int64_t>();
  }

  std::optional<std::string> text(const char* key) const {
    auto it = doc_.find(key);
    if (it == doc_.end() || !it->is_string())
      return std::nullopt;
    return it->get<std::string>();
  }

  bool has(const char* key) const {
    return doc_.contains(key);
  }

private:
  json doc_;
};

} // namespace

// -- decision_replay ----------------------------------------------------------

decision_replay::decision_replay(std::string decision_id)
  : decision_id_(std::move(decision_id)) {
  // nop
}

void decision_replay::refuse(const audit_entry& e, const std::string& why) {
  violation_ = remark(decision_id_, "lifecycle",
                      "the audit chain breaks the lifecycle at seq "
                        + std::to_string(e.seq) + ": " + why);
}

void decision_replay::feed(const audit_entry& e) {
  ++entries_;
  if (!violation_)
    replay(e);
}

void decision_replay::replay(const audit_entry& e) {
  auto action = in_quotes(to_string(e.action));
  if (e.action == audit_action::created) {
    if (state_)
      return refuse(e, "a second 'created' entry");
    details_reader d{e.details_json};
    auto required = d.integer("approvals_required");
    auto priority = parse_urgency(d.text("priority").value_or(""));
    auto severity = parse_urgency(d.text("severity").value_or(""));
    if (!required || !priority || !severity || !d.has("sla_deadline"))
      return refuse(e, "its 'created' entry lacks approvals_required, "
                       "priority, severity or sla_deadline");
    decision_record r;
    r.decision_id = decision_id_;
    r.patch_id = d.text("patch_id").value_or("");
    r.metadata.severity = *severity;
    r.priority = *priority;
    r.approvals_required = static_cast<int>(*required);
    if (auto deadline = d.text("sla_deadline"))
      r.sla_deadline = parse_iso(*deadline);
    r.policy_version = d.text("policy_version").value_or("");
    r.created_by = e.performed_by;
    r.created_at = e.at;
    r.updated_at = e.at;
    state_ = std::move(r);
    version_ = 1;
    return;
  }
  if (!state_)
    return refuse(e, action + " before any 'created' entry");
  auto& rec = *state_;
  details_reader d{e.details_json};
  switch (e.action) {
    case audit_action::created:
      break; // above
    case audit_action::token_created:
    case audit_action::token_revoked:
    case audit_action::token_expired:
      // The reader passes only entries with a decision; one here was
      // forged under a decision's id, which the table's CHECK forbids.
      return refuse(e, action + " is a token's entry, not a decision's");
    case audit_action::commented:
      return; // a comment leaves the record as it is
    case audit_action::auto_approved:
      // Only creation auto-approves, in the same statement as the row.
      if (entries_ != 2 || rec.status != decision_status::pending)
        return refuse(e, "'auto_approved' that does not directly follow "
                         "'created'");
      rec.status = decision_status::auto_approved;
      rec.decided_by = e.performed_by;
      rec.decided_at = e.at;
      return; // inserted so, not updated: the version stays 1
    case audit_action::approval_added:
    case audit_action::approved: {
      auto ch = approve_change(rec, e.performed_by, d.text("comment"), e.at);
      if (!ch)
        return refuse(e, "the lifecycle refuses the approval by "
                           + in_quotes(e.performed_by) + " ("
                           + std::string{to_string(ch.error())} + ")");
      auto expected = ch->notes.front().action;
      if (expected != e.action)
        return refuse(e, action + " where the lifecycle records "
                           + in_quotes(to_string(expected)) + " (approval "
                           + std::to_string(rec.approvals.size() + 1)
                           + " of " + std::to_string(rec.approvals_required)
                           + ")");
      rec = ch->after;
      break;
    }
    case audit_action::rejected: {
      auto ch = reject_change(rec, e.performed_by,
                              d.text("reason").value_or(""), d.text("comment"),
                              e.at);
      if (!ch)
        return refuse(e, "the lifecycle refuses the rejection by "
                           + in_quotes(e.performed_by) + " ("
                           + std::string{to_string(ch.error())} + ")");
      rec = ch->after;
      break;
    }
    case audit_action::cancelled: {
      auto ch = cancel_change(rec, e.performed_by, d.text("reason"), e.at);
      if (!ch)
        return refuse(e, "the lifecycle refuses the cancellation by "
                           + in_quotes(e.performed_by) + " ("
                           + std::string{to_string(ch.error())} + ")");
      rec = ch->after;
      break;
    }
    case audit_action::escalated: {
      auto level = d.integer("level");
      if (!level)
        return refuse(e, "an 'escalated' entry without a level");
      auto ch = escalate_change(rec, static_cast<int>(*level), e.at);
      if (!ch)
        return refuse(e, "the lifecycle refuses the escalation to level "
                           + std::to_string(*level) + " (the decision is "
                           + in_quotes(to_string(rec.status)) + " at level "
                           + std::to_string(rec.escalation_level) + ")");
      rec = ch->after;
      break;
    }
  }
  // Every change after creation is one UPDATE of the row, and the row's
  // trigger counts each in its version.
  ++version_;
}

std::vector<decision_mismatch>
decision_replay::compare(const stored_decision& row) const {
  if (violation_)
    return {*violation_};
  if (!state_)
    return {remark(row.decision_id, "entries",
                   "in hitl_decisions, but no audit entry created it")};
  const auto& s = *state_;
  const auto& id = row.decision_id;
  std::vector<decision_mismatch> out;
  if (row.status != s.status)
    out.push_back(differs(id, "decision", in_quotes(to_string(row.status)),
                          in_quotes(to_string(s.status))));
  if (row.decided_by != s.decided_by)
    out.push_back(differs(id, "decided_by", in_quotes_or_null(row.decided_by),
                          in_quotes_or_null(s.decided_by)));
  std::vector<std::string> approvers;
  for (const auto& a : s.approvals)
    approvers.push_back(a.by);
  if (row.approvals != approvers)
    out.push_back(
      differs(id, "approvals", listed(row.approvals), listed(approvers)));
  if (row.approvals_required != s.approvals_required)
    out.push_back(differs(id, "approvals_required",
                          std::to_string(row.approvals_required),
                          std::to_string(s.approvals_required)));
  if (row.escalation_level != s.escalation_level)
    out.push_back(differs(id, "escalation_level",
                          std::to_string(row.escalation_level),
                          std::to_string(s.escalation_level)));
  if (row.version != version_)
    out.push_back(differs(id, "version", std::to_string(row.version),
                          std::to_string(version_)));
  if (row.created_by != s.created_by)
    out.push_back(differs(id, "created_by", in_quotes(row.created_by),
                          in_quotes(s.created_by)));
  return out;
}

// -- decision_cross_check -----------------------------------------------------

decision_cross_check::decision_cross_check(size_t keep) : keep_(keep) {
  // nop
}

void decision_cross_check::add(decision_mismatch m) {
  ++mismatch_count_;
  if (kept_.size() < keep_)
    kept_.push_back(std::move(m));
}

void decision_cross_check::run(const next_row& rows,
                               const next_entry& entries) {
  auto entry = entries();
  // The entries of the decision the stream is at, into `replay`.
  auto replay_next = [&](decision_replay& replay) {
    while (entry && entry->decision_id == replay.decision_id()) {
      replay.feed(*entry);
      entry = entries();
    }
  };
  auto orphans_before = [&](const std::string* id) {
    while (entry && (!id || entry->decision_id < *id)) {
      decision_replay orphan{entry->decision_id};
      replay_next(orphan);
      add(remark(orphan.decision_id(), "row",
                 "the audit chain has " + std::to_string(orphan.entries())
                   + " entries for it, but hitl_decisions has no row"));
    }
  };
  while (auto row = rows()) {
    ++decisions_;
    orphans_before(&row->decision_id);
    decision_replay replay{row->decision_id};
    replay_next(replay);
    for (auto& m : replay.compare(*row))
      add(std::move(m));
  }
  orphans_before(nullptr);
}

} // namespace hitl
