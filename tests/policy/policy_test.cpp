#include "policy/auto_approval.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>

using namespace hitl;

namespace {

const timestamp t0 = from_micros(1'700'000'000'000'000);

/// A new decision that every rule lets through.
new_decision passing() {
  new_decision nd;
  nd.patch_id = "patch-1";
  nd.metadata.apv_id = "APV-1";
  nd.metadata.package_name = "openssl";
  nd.metadata.current_version = "3.0.1";
  nd.metadata.target_version = "3.0.2";
  nd.metadata.severity = urgency::high;
  nd.ml = ml_prediction{};
  nd.ml->confidence = 0.97;
  nd.ml->prediction = true;
  nd.wargaming = wargaming_result{};
  nd.wargaming->phase1_success = true;
  nd.wargaming->phase2_success = true;
  nd.wargaming->validation_passed = true;
  return nd;
}

} // namespace

TEST_CASE("judge: each rule and its name") {
  struct row {
    const char* label;
    std::function<void(new_decision&)> change;
    std::vector<std::string> failed;
  };
  const std::vector<row> rows{
    {"all rules pass", [](new_decision&) {}, {}},
    {"confidence exactly at the threshold passes",
     [](new_decision& nd) { nd.ml->confidence = 0.95; },
     {}},
    {"confidence just below the threshold",
     [](new_decision& nd) { nd.ml->confidence = 0.9499999; },
     {"ml_confidence_below_threshold"}},
    {"NaN confidence",
     [](new_decision& nd) { nd.ml->confidence = std::nan(""); },
     {"ml_confidence_below_threshold"}},
    {"critical severity",
     [](new_decision& nd) { nd.metadata.severity = urgency::critical; },
     {"severity_critical"}},
    {"negative prediction with high confidence",
     [](new_decision& nd) {
       nd.ml->prediction = false;
       nd.ml->confidence = 0.99;
     },
     {"ml_prediction_negative"}},
    {"no ML prediction",
     [](new_decision& nd) { nd.ml.reset(); },
     {"ml_prediction_missing"}},
    {"no wargaming result",
     [](new_decision& nd) { nd.wargaming.reset(); },
     {"wargaming_result_missing"}},
    {"validation failed",
     [](new_decision& nd) { nd.wargaming->validation_passed = false; },
     {"wargaming_validation_failed"}},
    {"manual review requested",
     [](new_decision& nd) { nd.requires_manual_review = true; },
     {"manual_review_requested"}},
    {"every failure is listed, in spec order",
     [](new_decision& nd) {
       nd.ml->prediction = false;
       nd.ml->confidence = 0.5;
       nd.metadata.severity = urgency::critical;
       nd.wargaming.reset();
       nd.requires_manual_review = true;
     },
     {"ml_prediction_negative", "ml_confidence_below_threshold",
      "severity_critical", "wargaming_result_missing",
      "manual_review_requested"}},
  };
  policy_config cfg;
  for (const auto& r : rows) {
    CAPTURE(r.label);
    auto nd = passing();
    r.change(nd);
    auto j = judge(cfg, nd, t0);
    CHECK(j.failed_rules == r.failed);
    CHECK(j.auto_approve == r.failed.empty());
  }
}

TEST_CASE("judge: the threshold comes from the config") {
  policy_config cfg;
  cfg.min_confidence = 0.8;
  auto nd = passing();
  nd.ml->confidence = 0.85;
  CHECK(judge(cfg, nd, t0).auto_approve);
  cfg.min_confidence = 0.9;
  CHECK_FALSE(judge(cfg, nd, t0).auto_approve);
}

TEST_CASE("judge: priority may be raised, never lowered") {
  struct row {
    urgency severity;
    std::optional<urgency> requested;
    urgency expected;
  };
  const row rows[] = {
    {urgency::high, std::nullopt, urgency::high},
    {urgency::low, urgency::critical, urgency::critical},
    {urgency::medium, urgency::high, urgency::high},
    {urgency::critical, urgency::medium, urgency::critical},
    {urgency::high, urgency::low, urgency::high},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.severity));
    auto nd = passing();
    nd.metadata.severity = r.severity;
    nd.requested_priority = r.requested;
    CHECK(judge(policy_config{}, nd, t0).priority == r.expected);
  }
}

TEST_CASE("judge: SLA deadline per priority") {
  using std::chrono::seconds;
  struct row {
    urgency priority;
    std::optional<timestamp> deadline;
  };
  const row rows[] = {
    {urgency::critical, t0 + seconds{300}},
    {urgency::high, t0 + seconds{600}},
    {urgency::medium, t0 + seconds{900}},
    {urgency::low, std::nullopt},
  };
  for (const auto& r : rows) {
    CAPTURE(to_string(r.priority));
    auto nd = passing();
    nd.metadata.severity = urgency::low;
    nd.requested_priority = r.priority;
    nd.requires_manual_review = true;
    CHECK(judge(policy_config{}, nd, t0).sla_deadline == r.deadline);
  }
  SUBCASE("an auto-approved patch awaits no verdict, so has no deadline") {
    auto j = judge(policy_config{}, passing(), t0);
    REQUIRE(j.auto_approve);
    CHECK_FALSE(j.sla_deadline.has_value());
  }
}

TEST_CASE("judge: approvals required follow the severity") {
  auto nd = passing();
  CHECK(judge(policy_config{}, nd, t0).approvals_required == 1);
  nd.metadata.severity = urgency::critical;
  CHECK(judge(policy_config{}, nd, t0).approvals_required == 2);
  SUBCASE("a raised priority does not raise the quorum") {
    nd.metadata.severity = urgency::low;
    nd.requested_priority = urgency::critical;
    CHECK(judge(policy_config{}, nd, t0).approvals_required == 1);
  }
  SUBCASE("configurable") {
    policy_config cfg;
    cfg.approvals_required[static_cast<size_t>(urgency::critical)] = 3;
    CHECK(judge(cfg, nd, t0).approvals_required == 3);
  }
}

TEST_CASE("policy version") {
  policy_config base;
  auto v = base.version();
  CHECK(v.size() == 10);
  CHECK(v.rfind("1.", 0) == 0);
  CHECK(v.find_first_not_of("0123456789abcdef", 2) == std::string::npos);
  CHECK(policy_config{}.version() == v);
  std::vector<std::function<void(policy_config&)>> changes{
    [](policy_config& c) { c.min_confidence = 0.96; },
    [](policy_config& c) { c.sla[0] = std::chrono::seconds{3600}; },
    [](policy_config& c) { c.sla[3] = std::chrono::seconds{301}; },
    [](policy_config& c) { c.escalation_repeat = std::chrono::seconds{60}; },
    [](policy_config& c) { c.max_escalation_level = 4; },
    [](policy_config& c) { c.approvals_required[2] = 2; },
  };
  std::vector<std::string> seen{v};
  for (size_t i = 0; i < changes.size(); ++i) {
    CAPTURE(i);
    auto cfg = base;
    changes[i](cfg);
    auto changed = cfg.version();
    CHECK(std::find(seen.begin(), seen.end(), changed) == seen.end());
    seen.push_back(changed);
  }
}
