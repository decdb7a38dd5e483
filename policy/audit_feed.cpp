#include "policy/audit_feed.hpp"

#include "policy/partition.hpp"

#include <charconv>

namespace hitl {

std::string to_string(feed_position p) {
  return std::to_string(p.partition) + ":" + std::to_string(p.pseq);
}

namespace {

template <class T>
bool parse_decimal(std::string_view s, T& out) {
  if (s.empty() || s.size() > 19)
    return false;
  for (char c : s)
    if (c < '0' || c > '9')
      return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size();
}

} // namespace

std::optional<feed_position> parse_feed_position(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  feed_position p;
  if (!parse_decimal(text.substr(0, colon), p.partition)
      || !parse_decimal(text.substr(colon + 1), p.pseq))
    return std::nullopt;
  if (p.partition < 0 || p.partition >= partition_count || p.pseq < 0)
    return std::nullopt;
  return p;
}

std::optional<std::string_view> event_of(audit_action a) {
  switch (a) {
    case audit_action::created:
      return "decision.created";
    case audit_action::auto_approved:
      return "decision.auto_approved";
    case audit_action::approved:
      return "decision.approved";
    case audit_action::rejected:
      return "decision.rejected";
    case audit_action::cancelled:
      return "decision.cancelled";
    case audit_action::escalated:
      return "decision.escalated";
    case audit_action::commented:
      return "comment.added";
    case audit_action::approval_added:
    case audit_action::token_created:
    case audit_action::token_revoked:
    case audit_action::token_expired:
      return std::nullopt;
  }
  return std::nullopt;
}

bool is_final_action(audit_action a) {
  return a == audit_action::auto_approved || a == audit_action::approved
         || a == audit_action::rejected || a == audit_action::cancelled;
}

decision_record as_of_entry(const decision_record& now, const feed_entry& e) {
  decision_record then = now;
  if (e.action == audit_action::created) {
    then.escalation_level = 0;
    then.approvals.clear();
  }
  if (e.action == audit_action::escalated && e.level)
    then.escalation_level = *e.level;
  bool decided_later = !is_final_action(e.action) && !is_open(now.status)
                       && now.status != decision_status::auto_approved;
  if (decided_later) {
    then.decided_by.reset();
    then.decided_at.reset();
    then.reason.reset();
    then.comment.reset();
  }
  if (decided_later || is_open(then.status))
    then.status = then.escalation_level > 0 ? decision_status::escalated
                                            : decision_status::pending;
  return then;
}

} // namespace hitl
