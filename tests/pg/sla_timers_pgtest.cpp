// SLA timers, escalations, recovery wake-ups and long-poll expiries, in
// simulated time (tests/pg/simulated_service.hpp): the real supervisor,
// patch actors and auditor on a real PostgreSQL, run one message at a time
// under CAF's test coordinator, with a clock that moves only when the test
// moves it. Each timer is checked at its exact instant, and a microsecond
// before it; no verdict depends on the machine's speed. The real-time
// counterparts, end to end, are in actors_pgtest (recovery after a restart,
// a wave of 12,000 deadlines) and http_api_pgtest (an escalation seen
// through HTTP and /metrics).

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"
#include "tests/pg/simulated_service.hpp"

#include "actors/atoms.hpp"
#include "actors/service_error.hpp"
#include "policy/policy_config.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace hitl;
using namespace hitl::test;
using namespace std::chrono_literals;

namespace {

constexpr duration us{1};

// SPEC §2's defaults: high is due 10 minutes after creation, and each
// further level 10 minutes after the one before, up to level 3.
policy_config default_policy() {
  return policy_config{};
}

std::vector<int> levels_of(const std::vector<escalation_entry>& entries) {
  std::vector<int> out;
  for (const auto& e : entries)
    out.push_back(e.level);
  return out;
}

std::string decision_column(const std::string& url, const std::string& id,
                            const std::string& column) {
  return sql_scalar(url, "SELECT " + column
                           + " FROM hitl_decisions WHERE decision_id = '" + id
                           + "'");
}

} // namespace

TEST_CASE("simulated time: each escalation level at its instant, once; a "
          "verdict stops them") {
  auto url = migrated_database("hitl_sim_levels");
  simulated_service svc{url, default_policy()};
  auto t0 = svc.now();
  auto quick = svc.create(sample_decision("p-quick", urgency::high, false));
  auto slow = svc.create(sample_decision("p-slow", urgency::high, false));
  REQUIRE(quick);
  REQUIRE(slow);
  const auto& slow_id = slow->record.decision_id;
  auto deadline = t0 + 10min;
  REQUIRE(slow->record.sla_deadline == deadline);
  CHECK(svc.patch_actors() == 2);

  svc.advance_to(t0 + 9min);
  auto approved = svc.act(atoms::approve::value, verdict("p-quick", "alice"));
  REQUIRE(approved);
  CHECK(approved->status == decision_status::approved);
  CHECK(approved->escalation_level == 0);
  CHECK(svc.patch_actors() == 1); // p-quick's actor stopped

  // Level by level: nothing a microsecond before, the level at its instant.
  for (int level = 1; level <= 3; ++level) {
    CAPTURE(level);
    auto due = deadline + (level - 1) * 10min;
    svc.advance_to(due - us);
    CHECK(escalations_of(url, slow_id).size()
          == static_cast<size_t>(level - 1));
    svc.advance_to(due);
    auto entries = escalations_of(url, slow_id);
    REQUIRE(entries.size() == static_cast<size_t>(level));
    CHECK(entries.back().level == level);
    CHECK(entries.back().at == due);
    CHECK(decision_column(url, slow_id, "escalation_level")
          == std::to_string(level));
  }
  // Level 3 is the last: a day later there is still no fourth.
  svc.advance(24h);
  CHECK(levels_of(escalations_of(url, slow_id)) == std::vector<int>{1, 2, 3});
  CHECK(escalations_of(url, quick->record.decision_id).empty());

  auto late = svc.act(atoms::approve::value, verdict("p-slow", "bob"));
  REQUIRE(late); // an escalated decision still takes a verdict
  CHECK(late->status == decision_status::approved);
  CHECK(late->escalation_level == 3);
  CHECK(svc.patch_actors() == 0);
  auto text = svc.metrics_text();
  for (const auto* line :
       {"hitl_escalations_total{level=\"1\"} 1",
        "hitl_escalations_total{level=\"2\"} 1",
        "hitl_escalations_total{level=\"3\"} 1", "hitl_sla_breaches_total 1",
        // Level 3 is max_level: one final escalation, not one per level.
        "hitl_final_escalations_total 1", "hitl_pending_patches 0"}) {
    CAPTURE(line);
    CHECK(text.find(line) != std::string::npos);
  }
}

TEST_CASE("simulated time: a node down across two deadlines escalates both at "
          "its start, in order, and the next one on time") {
  auto url = migrated_database("hitl_sim_recovery");
  std::string id;
  timestamp t0;
  {
    simulated_service first{url, default_policy()};
    t0 = first.now();
    auto created = first.create(sample_decision("p-rec", urgency::high, false));
    REQUIRE(created);
    id = created->record.decision_id;
    first.advance(5min);
  } // down at t0 + 5 min; levels fall due at 10, 20 and 30 min

  auto restart = t0 + 25min;
  {
    simulated_service second{url, default_policy(), restart};
    CHECK(second.recovered() == 1);
    auto entries = escalations_of(url, id);
    REQUIRE(levels_of(entries) == std::vector<int>{1, 2});
    CHECK(entries[0].at == restart);
    CHECK(entries[1].at == restart);
    second.advance_to(t0 + 30min - us);
    CHECK(escalations_of(url, id).size() == 2);
    second.advance_to(t0 + 30min);
    entries = escalations_of(url, id);
    REQUIRE(levels_of(entries) == std::vector<int>{1, 2, 3});
    CHECK(entries[2].at == t0 + 30min);
    second.advance(1h);
  } // down again at t0 + 90 min

  // A third start finds nothing overdue: no level is written twice.
  {
    simulated_service third{url, default_policy(), t0 + 2h};
    CHECK(third.recovered() == 1);
    CHECK(third.patch_actors() == 0); // dormant: nothing ahead of it
    third.advance(24h);
  }
  CHECK(levels_of(escalations_of(url, id)) == std::vector<int>{1, 2, 3});
  CHECK(decision_column(url, id, "escalation_level") == "3");
}

TEST_CASE("simulated time: dormant decisions wake when due, each at its "
          "instant and once") {
  auto url = migrated_database("hitl_sim_wake");
  // Levels only every hour after the first, so that within the test each
  // decision reaches level 1 at most.
  auto policy = default_policy();
  policy.escalation_repeat = 1h;
  std::vector<std::string> ids;
  auto far = sample_decision("p-far", urgency::low, false); // no SLA
  far.decision_id = "dec-far";
  timestamp t0;
  {
    simulated_service first{url, policy};
    t0 = first.now();
    for (int i = 0; i < 6; ++i) {
      auto created = first.create(
        sample_decision("p-w" + std::to_string(i), urgency::high, false));
      REQUIRE(created);
      ids.push_back(created->record.decision_id);
    }
    REQUIRE(first.create(far));
  }
  // Many more open decisions, due in a day, as recovery at scale sees them.
  insert_open_decisions(url, "fill", 3000);
  auto start = t0 + 1min;
  // p-w0..2 fall due one after the other; p-w3 gets a comment (so its actor
  // starts early, arming its own timer) and p-w4 a verdict before they fall
  // due; p-w5 is overdue at the start.
  std::vector<timestamp> deadline{start + 4s,  start + 8s, start + 12s,
                                  start + 8s,  start + 10s, start - 5s};
  for (size_t i = 0; i < ids.size(); ++i)
    sql_exec(url, "UPDATE hitl_decisions SET sla_deadline = '"
                    + format_iso(deadline[i]) + "' WHERE decision_id = '"
                    + ids[i] + "'");

  simulated_service second{url, policy, start};
  CHECK(second.recovered() == 3007);
  CHECK(second.open_count() == 3007);
  // Dormant: no actor for a recovered decision until it needs one. Only
  // p-w5's runs, overdue, and it escalated at the start.
  CHECK(second.patch_actors() == 1);
  CHECK(levels_of(escalations_of(url, ids[5])) == std::vector<int>{1});

  second.advance(1s);
  auto v = verdict("p-w3", "alice");
  v.comment = "looking into it";
  REQUIRE(second.comment_on(v));
  auto approved = second.act(atoms::approve::value, verdict("p-w4", "alice"));
  REQUIRE(approved);
  CHECK(approved->escalation_level == 0);
  // A dormant decision still answers a repeated creation, and still holds
  // its patch against another one.
  auto again = second.create(far);
  REQUIRE(again);
  CHECK_FALSE(again->created);
  CHECK(again->record.decision_id == "dec-far");
  auto twin = second.create(sample_decision("p-far", urgency::high, false));
  REQUIRE_FALSE(twin);
  CHECK(service_code(twin.error()) == service_errc::conflict);
  auto filler = second.act(atoms::approve::value, verdict("p-fill7", "alice"));
  REQUIRE(filler);
  CHECK(filler->decision_id == "fill7");

  // Each one at its instant: not a microsecond before, and once.
  std::vector<size_t> order(ids.size() - 1);
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return deadline[a] < deadline[b]; });
  for (auto i : order) {
    CAPTURE(i);
    if (second.now() < deadline[i]) { // p-w3 falls due with p-w1
      second.advance_to(deadline[i] - us);
      CHECK(escalations_of(url, ids[i]).empty());
    }
    second.advance_to(deadline[i]);
    if (i == 4) {
      CHECK(escalations_of(url, ids[i]).empty()); // approved before
      continue;
    }
    auto entries = escalations_of(url, ids[i]);
    REQUIRE(levels_of(entries) == std::vector<int>{1});
    CHECK(entries[0].at == deadline[i]);
  }
  second.advance(30min); // past every deadline of the test, before level 2
  CHECK(second.open_count() == 3005); // p-w4 and fill7 are approved
  CHECK(escalations_of(url, ids[4]).empty());
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs"
                        " WHERE action = 'escalated'")
        == "5");
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions"
                        " WHERE escalation_level > 0")
        == "5");
  // The ones that woke or were asked have actors now (p-w0, 1, 2, 3, 5 and
  // dec-far); the 3,000 fillers stay dormant.
  CHECK(second.patch_actors() == 6);
}

TEST_CASE("simulated time: a long-poll ends false at its time, or true at "
          "the verdict") {
  auto url = migrated_database("hitl_sim_wait");
  simulated_service svc{url, default_policy()};
  auto a = svc.create(sample_decision("p-a", urgency::high, false));
  auto b = svc.create(sample_decision("p-b", urgency::high, false));
  REQUIRE(a);
  REQUIRE(b);
  svc.tell_feed(atoms::wait::value, decision_wait{a->record.decision_id, 30});
  svc.advance(30s - us);
  auto early = svc.answer<bool>();
  REQUIRE_FALSE(early); // still waiting
  CHECK(early.error() == caf::sec::request_timeout);
  svc.advance(us);
  auto expired = svc.answer<bool>();
  REQUIRE(expired);
  CHECK_FALSE(*expired);

  svc.tell_feed(atoms::wait::value, decision_wait{b->record.decision_id, 30});
  svc.advance(10s);
  REQUIRE_FALSE(svc.answer<bool>());
  REQUIRE(svc.act(atoms::reject::value, [] {
    auto v = verdict("p-b", "alice");
    v.reason = "breaks the build";
    return v;
  }()));
  auto released = svc.answer<bool>();
  REQUIRE(released);
  CHECK(*released);
  // Its timer still fires, later, and changes nothing.
  svc.advance(1min);
  CHECK_FALSE(svc.answer<bool>());
}
