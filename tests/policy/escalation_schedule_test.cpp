#include "policy/escalation_schedule.hpp"

#include <doctest/doctest.h>

using namespace hitl;
using std::chrono::microseconds;
using std::chrono::seconds;

namespace {

const timestamp created = from_micros(1'700'000'000'000'000);
const timestamp deadline = created + seconds{300}; // critical by default
const microseconds tick{1};

} // namespace

TEST_CASE("escalation levels at deadline + (k-1) * repeat") {
  policy_config cfg;
  auto p = urgency::critical;
  CHECK(escalation_time(cfg, p, deadline, 1) == deadline);
  CHECK(escalation_time(cfg, p, deadline, 2) == deadline + seconds{300});
  CHECK(escalation_time(cfg, p, deadline, 3) == deadline + seconds{600});
  SUBCASE("no level beyond the maximum, none below 1") {
    CHECK_FALSE(escalation_time(cfg, p, deadline, 4).has_value());
    CHECK_FALSE(escalation_time(cfg, p, deadline, 0).has_value());
    CHECK_FALSE(escalation_time(cfg, p, deadline, -1).has_value());
  }
  SUBCASE("the repeat is the priority's own SLA") {
    auto high_deadline = created + seconds{600};
    CHECK(escalation_time(cfg, urgency::high, high_deadline, 2)
          == high_deadline + seconds{600});
  }
  SUBCASE("a custom repeat") {
    cfg.escalation_repeat = seconds{60};
    CHECK(escalation_time(cfg, p, deadline, 2) == deadline + seconds{60});
    CHECK(escalation_time(cfg, p, deadline, 3) == deadline + seconds{120});
  }
  SUBCASE("a custom maximum") {
    cfg.max_escalation_level = 5;
    CHECK(escalation_time(cfg, p, deadline, 5)
          == deadline + seconds{4 * 300});
    CHECK_FALSE(escalation_time(cfg, p, deadline, 6).has_value());
  }
  SUBCASE("without any interval only level 1 exists") {
    cfg.sla[static_cast<size_t>(urgency::low)] = std::nullopt;
    CHECK(escalation_time(cfg, urgency::low, deadline, 1) == deadline);
    CHECK_FALSE(escalation_time(cfg, urgency::low, deadline, 2).has_value());
    cfg.escalation_repeat = microseconds{0};
    CHECK_FALSE(
      escalation_time(cfg, urgency::critical, deadline, 2).has_value());
  }
}

TEST_CASE("due_level on both sides of each boundary") {
  policy_config cfg;
  auto p = urgency::critical;
  CHECK(due_level(cfg, p, deadline, created) == 0);
  for (int level = 1; level <= 3; ++level) {
    CAPTURE(level);
    auto at = *escalation_time(cfg, p, deadline, level);
    CHECK(due_level(cfg, p, deadline, at - tick) == level - 1);
    CHECK(due_level(cfg, p, deadline, at) == level);
  }
  SUBCASE("capped at the maximum level") {
    CHECK(due_level(cfg, p, deadline, deadline + seconds{900}) == 3);
    CHECK(due_level(cfg, p, deadline, deadline + seconds{86400 * 365}) == 3);
  }
  SUBCASE("escalation disabled") {
    cfg.max_escalation_level = 0;
    CHECK(due_level(cfg, p, deadline, deadline + seconds{1000}) == 0);
    CHECK_FALSE(next_escalation(cfg, p, deadline, 0).has_value());
  }
  SUBCASE("a single level without an interval") {
    cfg.escalation_repeat = microseconds{0};
    CHECK(due_level(cfg, p, deadline, deadline - tick) == 0);
    CHECK(due_level(cfg, p, deadline, deadline + seconds{10000}) == 1);
  }
}

TEST_CASE("next_escalation is the following level's time") {
  policy_config cfg;
  cfg.escalation_repeat = seconds{30};
  auto p = urgency::high;
  CHECK(next_escalation(cfg, p, deadline, 0) == deadline);
  CHECK(next_escalation(cfg, p, deadline, 1) == deadline + seconds{30});
  CHECK(next_escalation(cfg, p, deadline, 2) == deadline + seconds{60});
  CHECK_FALSE(next_escalation(cfg, p, deadline, 3).has_value());
}

TEST_CASE("sla_status around the at-risk boundary and the deadline") {
  // 300 s window: at risk once less than 75 s remain.
  auto at_risk_from = deadline - seconds{75};
  CHECK(sla_status_at(created, deadline, created) == sla_status::ok);
  CHECK(sla_status_at(created, deadline, at_risk_from) == sla_status::ok);
  CHECK(sla_status_at(created, deadline, at_risk_from + tick)
        == sla_status::at_risk);
  CHECK(sla_status_at(created, deadline, deadline - tick)
        == sla_status::at_risk);
  CHECK(sla_status_at(created, deadline, deadline) == sla_status::breached);
  CHECK(sla_status_at(created, deadline, deadline + seconds{1})
        == sla_status::breached);
  SUBCASE("no deadline is always ok") {
    CHECK(sla_status_at(created, std::nullopt, deadline + seconds{99999})
          == sla_status::ok);
  }
  SUBCASE("names") {
    CHECK(to_string(sla_status::ok) == "ok");
    CHECK(to_string(sla_status::at_risk) == "at_risk");
    CHECK(to_string(sla_status::breached) == "breached");
  }
}
