#include "policy/approval_rule.hpp"

#include <doctest/doctest.h>

using namespace hitl;

namespace {

decision_record open_decision(int approvals_required = 1) {
  decision_record rec;
  rec.decision_id = "d-1";
  rec.patch_id = "patch-1";
  rec.status = decision_status::pending;
  rec.approvals_required = approvals_required;
  rec.created_by = "wargaming";
  return rec;
}

void add_approval(decision_record& rec, const std::string& by) {
  rec.approvals.push_back(
    approval{by, from_micros(0), std::nullopt, std::nullopt, std::nullopt});
}

} // namespace

TEST_CASE("approval: one approval completes a normal decision") {
  auto rec = open_decision(1);
  auto out = check_approval(rec, "alice");
  REQUIRE(out);
  CHECK(out->completes);
  rec.status = decision_status::escalated;
  REQUIRE(check_approval(rec, "alice"));
  CHECK(check_approval(rec, "alice")->completes);
}

TEST_CASE("approval: the two-person rule") {
  auto rec = open_decision(2);
  auto first = check_approval(rec, "alice");
  REQUIRE(first);
  CHECK_FALSE(first->completes);
  add_approval(rec, "alice");
  SUBCASE("the same reviewer cannot approve twice") {
    auto again = check_approval(rec, "alice");
    REQUIRE_FALSE(again);
    CHECK(again.error() == verdict_error::already_approved_by_reviewer);
  }
  SUBCASE("a second distinct reviewer completes it") {
    auto second = check_approval(rec, "bob");
    REQUIRE(second);
    CHECK(second->completes);
  }
}

TEST_CASE("approval: the creator cannot approve") {
  auto rec = open_decision(2);
  auto out = check_approval(rec, "wargaming");
  REQUIRE_FALSE(out);
  CHECK(out.error() == verdict_error::self_approval);
  CHECK(to_string(out.error()) == "self_approval");
}

TEST_CASE("rejection needs a reason and is final") {
  auto rec = open_decision(2);
  CHECK(check_rejection(rec, "") == verdict_error::reason_required);
  CHECK(check_rejection(rec, " \t\n") == verdict_error::reason_required);
  CHECK_FALSE(check_rejection(rec, "breaks the ABI").has_value());
  SUBCASE("even after a partial approval") {
    add_approval(rec, "alice");
    CHECK_FALSE(check_rejection(rec, "second look: no").has_value());
  }
}

TEST_CASE("no action on a final decision") {
  const decision_status finals[] = {
    decision_status::approved,
    decision_status::rejected,
    decision_status::auto_approved,
    decision_status::cancelled,
  };
  for (auto status : finals) {
    CAPTURE(to_string(status));
    auto rec = open_decision(1);
    rec.status = status;
    auto approve = check_approval(rec, "alice");
    REQUIRE_FALSE(approve);
    CHECK(approve.error() == verdict_error::not_open);
    CHECK(check_rejection(rec, "too late") == verdict_error::not_open);
    CHECK(check_cancel(rec) == verdict_error::not_open);
  }
  SUBCASE("finality is checked before identity") {
    auto rec = open_decision(1);
    rec.status = decision_status::approved;
    CHECK(check_approval(rec, "wargaming").error()
          == verdict_error::not_open);
  }
}

TEST_CASE("cancel is allowed while open") {
  auto rec = open_decision(1);
  CHECK_FALSE(check_cancel(rec).has_value());
  rec.status = decision_status::escalated;
  CHECK_FALSE(check_cancel(rec).has_value());
}

TEST_CASE("verdict_error names") {
  CHECK(to_string(verdict_error::not_open) == "not_open");
  CHECK(to_string(verdict_error::already_approved_by_reviewer)
        == "already_approved_by_reviewer");
  CHECK(to_string(verdict_error::reason_required) == "reason_required");
  CHECK(static_cast<int>(verdict_error::not_open) == 1);
}
