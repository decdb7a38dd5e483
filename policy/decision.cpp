#include "policy/decision.hpp"

#include <array>

namespace hitl {

namespace {

template <class Enum, size_t N>
std::optional<Enum> parse_enum(const std::array<std::string_view, N>& names,
                               std::string_view s) {
  for (size_t i = 0; i < N; ++i)
    if (names[i] == s)
      return static_cast<Enum>(i);
  return std::nullopt;
}

constexpr std::array<std::string_view, 4> urgency_names{
  "low", "medium", "high", "critical"};

constexpr std::array<std::string_view, 6> status_names{
  "pending",  "escalated",     "approved",
  "rejected", "auto_approved", "cancelled"};

constexpr std::array<std::string_view, 11> action_names{
  "created",       "auto_approved", "approval_added", "approved",
  "rejected",      "commented",     "escalated",      "cancelled",
  "token_created", "token_revoked", "token_expired"};

} // namespace

std::string_view to_string(urgency u) {
  return urgency_names[static_cast<size_t>(u)];
}

std::optional<urgency> parse_urgency(std::string_view s) {
  return parse_enum<urgency>(urgency_names, s);
}

std::string_view to_string(decision_status s) {
  return status_names[static_cast<size_t>(s)];
}

std::optional<decision_status> parse_decision_status(std::string_view s) {
  return parse_enum<decision_status>(status_names, s);
}

std::string_view to_string(audit_action a) {
  return action_names[static_cast<size_t>(a)];
}

std::optional<audit_action> parse_audit_action(std::string_view s) {
  return parse_enum<audit_action>(action_names, s);
}

bool ml_wargaming_agreement(const std::optional<ml_prediction>& ml,
                            const std::optional<wargaming_result>& wg) {
  return ml && wg && ml->prediction == wg->validation_passed;
}

bool valid_decision_id(std::string_view id) {
  if (id.empty() || id.size() > 255)
    return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':'
              || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace hitl
