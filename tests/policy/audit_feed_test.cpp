#include "policy/audit_feed.hpp"

#include <doctest/doctest.h>

using namespace hitl;

namespace {

decision_record approved_at_level(int level) {
  decision_record r;
  r.decision_id = "d-1";
  r.status = decision_status::approved;
  r.escalation_level = level;
  r.decided_by = "alice";
  r.decided_at = timestamp{};
  r.reason = "looks right";
  r.approvals.push_back({});
  return r;
}

feed_entry entry(audit_action a, std::optional<int> level = std::nullopt) {
  feed_entry e;
  e.decision_id = "d-1";
  e.action = a;
  e.level = level;
  return e;
}

} // namespace

TEST_CASE("a created entry read with its decision's later approval shows a new, open decision") {
  auto then = as_of_entry(approved_at_level(2), entry(audit_action::created));
  CHECK(then.status == decision_status::pending);
  CHECK(then.escalation_level == 0);
  CHECK(then.approvals.empty());
  CHECK_FALSE(then.decided_by);
  CHECK_FALSE(then.decided_at);
  CHECK_FALSE(then.reason);
}

TEST_CASE("an escalation shows its own level, open, whatever came after it") {
  auto later = approved_at_level(2);
  auto first = as_of_entry(later, entry(audit_action::escalated, 1));
  CHECK(first.status == decision_status::escalated);
  CHECK(first.escalation_level == 1);
  CHECK_FALSE(first.decided_by);
  later.status = decision_status::escalated;
  later.decided_by.reset();
  auto second = as_of_entry(later, entry(audit_action::escalated, 2));
  CHECK(second.status == decision_status::escalated);
  CHECK(second.escalation_level == 2);
}

TEST_CASE("the final entry shows the decision as it is") {
  auto now = approved_at_level(1);
  auto then = as_of_entry(now, entry(audit_action::approved));
  CHECK(then.status == decision_status::approved);
  CHECK(then.decided_by == now.decided_by);
  CHECK(then.escalation_level == 1);
}

TEST_CASE("an auto-approval commits with its creation: its created entry shows it, as on the node that made it") {
  auto now = approved_at_level(0);
  now.status = decision_status::auto_approved;
  now.approvals.clear();
  auto then = as_of_entry(now, entry(audit_action::created));
  CHECK(then.status == decision_status::auto_approved);
  CHECK(then.decided_by == now.decided_by);
}

TEST_CASE("a comment on a decision decided since shows it open at its current level") {
  auto then = as_of_entry(approved_at_level(1), entry(audit_action::commented));
  CHECK(then.status == decision_status::escalated);
  CHECK(then.escalation_level == 1);
  CHECK_FALSE(then.decided_at);
}
