#include "policy/approval_rule.hpp"

#include <algorithm>
#include <cctype>

namespace hitl {

namespace {

bool is_blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  });
}

} // namespace

std::string_view to_string(verdict_error e) {
  switch (e) {
    case verdict_error::not_open:
      return "not_open";
    case verdict_error::self_approval:
      return "self_approval";
    case verdict_error::already_approved_by_reviewer:
      return "already_approved_by_reviewer";
    case verdict_error::reason_required:
      return "reason_required";
  }
  return "unknown";
}

outcome<approval_outcome> check_approval(const decision_record& rec,
                                         const std::string& reviewer) {
  if (!is_open(rec.status))
    return verdict_error::not_open;
  if (reviewer == rec.created_by)
    return verdict_error::self_approval;
  auto by_reviewer = [&](const approval& a) { return a.by == reviewer; };
  if (std::any_of(rec.approvals.begin(), rec.approvals.end(), by_reviewer))
    return verdict_error::already_approved_by_reviewer;
  // The approvals so far come from distinct reviewers (this very check saw
  // to it), so counting them counts reviewers.
  auto after = static_cast<int64_t>(rec.approvals.size()) + 1;
  return approval_outcome{after >= rec.approvals_required};
}

std::optional<verdict_error> check_rejection(const decision_record& rec,
                                             const std::string& reason) {
  if (!is_open(rec.status))
    return verdict_error::not_open;
  if (is_blank(reason))
    return verdict_error::reason_required;
  return std::nullopt;
}

std::optional<verdict_error> check_cancel(const decision_record& rec) {
  if (!is_open(rec.status))
    return verdict_error::not_open;
  return std::nullopt;
}

} // namespace hitl
