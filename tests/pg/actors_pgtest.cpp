// The actor core on a real PostgreSQL: creation, verdicts, the two-person
// rule, concurrency on one decision, recovery in real time, group commit.
// SLA levels and wake-ups at their exact instants: sla_timers_pgtest.

#include "tests/pg/actor_shutdown.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"

#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/db_reader.hpp"
#include "actors/patch_actor.hpp"
#include "actors/service_error.hpp"
#include "actors/supervisor.hpp"
#include "persistence/audit_verification.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_repository.hpp"
#include "policy/lifecycle.hpp"
#include "policy/policy_config.hpp"

#include <caf/scheduler/test_coordinator.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace hitl;
using namespace hitl::test;
using namespace std::chrono_literals;

namespace {

service_config fast_sla(double sla_seconds, double repeat_seconds) {
  service_config c;
  for (auto& s : c.policy.sla)
    s = from_seconds(sla_seconds);
  c.policy.escalation_repeat = from_seconds(repeat_seconds);
  c.policy.max_escalation_level = 3;
  return c;
}

std::vector<int> escalation_levels(const std::vector<audit_row>& rows) {
  std::vector<int> levels;
  for (const auto& r : rows)
    if (r.action == "escalated") {
      auto pos = r.details.find("\"level\": ");
      REQUIRE(pos != std::string::npos);
      levels.push_back(std::stoi(r.details.substr(pos + 9)));
    }
  return levels;
}

// When the decision's audit trail records `level`, in seconds since the
// epoch.
double escalated_at(const std::string& url, const std::string& id,
                    int level) {
  auto at = sql_scalar(
    url, "SELECT extract(epoch FROM \"timestamp\") FROM hitl_audit_logs"
         " WHERE action = 'escalated' AND decision_id = '" + id
           + "' AND (details->>'level')::int = " + std::to_string(level));
  REQUIRE_FALSE(at.empty());
  return std::stod(at);
}

// Returns once every SLA timer that was due when the decision's actor
// started has fired and its escalation is committed. A first comment starts
// the actor (it arms its timer as it starts); a second goes through the
// actor clock after that, so it reaches the actor behind any such timer's
// message, and the actor answers it only after committing what came before.
void settle_due_timers(running_service& svc, const std::string& patch_id) {
  caf::scoped_actor self{svc.system()};
  auto v = verdict(patch_id, "settler");
  v.comment = "settling";
  bool first = false;
  self->request(svc.actors().supervisor, 20s, atoms::comment::value, v)
    .receive([&](comment&) { first = true; }, [](caf::error&) {});
  REQUIRE(first);
  self->delayed_send(svc.actors().supervisor, 1ms, atoms::comment::value, v);
  bool second = false;
  self->receive([&](comment&) { second = true; }, [](caf::error&) {},
                caf::after(std::chrono::seconds(20)) >> [] {});
  REQUIRE(second);
}

} // namespace

TEST_CASE("creation: auto-approval, human queue, idempotent retry, conflict") {
  auto url = migrated_database("hitl_actor_create");
  running_service svc{url, service_config{}};

  auto autod = svc.create(sample_decision("p-auto", urgency::high, true));
  REQUIRE(autod);
  CHECK(autod->created);
  CHECK(autod->record.status == decision_status::auto_approved);
  CHECK(autod->record.failed_rules.empty());
  auto trail = audit_of(url, autod->record.decision_id);
  REQUIRE(trail.size() == 2);
  CHECK(trail[0].action == "created");
  CHECK(trail[1].action == "auto_approved");

  auto nd = sample_decision("p-human", urgency::high, false);
  nd.decision_id = "dec-human-1";
  auto human = svc.create(nd);
  REQUIRE(human);
  CHECK(human->created);
  CHECK(human->record.status == decision_status::pending);
  CHECK(human->record.failed_rules
        == std::vector<std::string>{"ml_confidence_below_threshold"});
  REQUIRE(human->record.sla_deadline);

  auto again = svc.create(nd); // same id, same content: the same record
  REQUIRE(again);
  CHECK_FALSE(again->created);
  CHECK(again->record.decision_id == "dec-human-1");
  CHECK(again->record.created_at == human->record.created_at);

  auto other = nd;
  other.metadata.target_version = "9.9.9";
  auto clash = svc.create(other);
  REQUIRE_FALSE(clash);
  CHECK(service_code(clash.error()) == service_errc::conflict);

  auto twin = sample_decision("p-human", urgency::high, false); // new id
  auto dup_patch = svc.create(twin);
  REQUIRE_FALSE(dup_patch);
  CHECK(service_code(dup_patch.error()) == service_errc::conflict);

  // The auto-approved one is final: a retry after the fact is still 200.
  auto final_nd = sample_decision("p-auto2", urgency::low, true);
  final_nd.decision_id = "dec-auto-2";
  REQUIRE(svc.create(final_nd));
  auto final_again = svc.create(final_nd);
  REQUIRE(final_again);
  CHECK_FALSE(final_again->created);
  CHECK(audit_of(url, "dec-auto-2").size() == 2); // nothing written twice
}

TEST_CASE("verdicts: approve, reject, cancel, final states and refusals") {
  auto url = migrated_database("hitl_actor_verdicts");
  running_service svc{url, service_config{}};
  REQUIRE(svc.create(sample_decision("p-a", urgency::medium, false)));
  REQUIRE(svc.create(sample_decision("p-r", urgency::medium, false)));
  REQUIRE(svc.create(sample_decision("p-c", urgency::medium, false)));

  auto self = svc.act(atoms::approve::value, verdict("p-a", "wargaming"));
  REQUIRE_FALSE(self);
  CHECK(service_code(self.error()) == service_errc::self_approval);

  auto ok = svc.act(atoms::approve::value, verdict("p-a", "alice"));
  REQUIRE(ok);
  CHECK(ok->status == decision_status::approved);
  CHECK(ok->decided_by == "alice");
  CHECK(ok->version == 2);
  auto late = svc.act(atoms::reject::value, verdict("p-a", "bob"));
  REQUIRE_FALSE(late);
  CHECK(service_code(late.error()) == service_errc::conflict);

  auto no_reason = svc.act(atoms::reject::value, verdict("p-r", "bob"));
  REQUIRE_FALSE(no_reason);
  CHECK(service_code(no_reason.error()) == service_errc::invalid);
  auto v = verdict("p-r", "bob");
  v.reason = "breaks the ABI";
  auto rejected = svc.act(atoms::reject::value, v);
  REQUIRE(rejected);
  CHECK(rejected->status == decision_status::rejected);
  CHECK(rejected->reason == "breaks the ABI");

  auto cancelled =
    svc.act(atoms::cancel::value, verdict("p-c", "eureka", role::service));
  REQUIRE(cancelled);
  CHECK(cancelled->status == decision_status::cancelled);

  auto unknown = svc.act(atoms::approve::value, verdict("p-none", "alice"));
  REQUIRE_FALSE(unknown);
  CHECK(service_code(unknown.error()) == service_errc::not_found);

  // A final patch may be queued again as a new decision.
  auto requeued = svc.create(sample_decision("p-r", urgency::medium, false));
  REQUIRE(requeued);
  CHECK(requeued->created);
  CHECK(requeued->record.status == decision_status::pending);
}

TEST_CASE("two-person rule: critical needs two distinct reviewers") {
  auto url = migrated_database("hitl_actor_two_person");
  running_service svc{url, service_config{}};
  auto created = svc.create(sample_decision("p-crit", urgency::critical, true));
  REQUIRE(created);
  CHECK(created->record.status == decision_status::pending); // never auto
  CHECK(created->record.approvals_required == 2);
  auto first = svc.act(atoms::approve::value, verdict("p-crit", "alice"));
  REQUIRE(first);
  CHECK(first->status == decision_status::pending);
  CHECK(first->approvals.size() == 1);
  auto twice = svc.act(atoms::approve::value, verdict("p-crit", "alice"));
  REQUIRE_FALSE(twice);
  CHECK(service_code(twice.error()) == service_errc::conflict);
  auto second = svc.act(atoms::approve::value, verdict("p-crit", "bob"));
  REQUIRE(second);
  CHECK(second->status == decision_status::approved);
  CHECK(second->approvals.size() == 2);
  auto trail = audit_of(url, created->record.decision_id);
  REQUIRE(trail.size() == 3);
  CHECK(trail[1].action == "approval_added");
  CHECK(trail[1].performed_by == "alice");
  CHECK(trail[2].action == "approved");
  CHECK(trail[2].performed_by == "bob");
}

TEST_CASE("200 concurrent verdicts on one decision: exactly one wins") {
  auto url = migrated_database("hitl_actor_race");
  running_service svc{url, service_config{}};
  auto created = svc.create(sample_decision("p-race", urgency::high, false));
  REQUIRE(created);
  std::atomic<int> wins{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto who = "reviewer-" + std::to_string(t) + "-" + std::to_string(i);
        auto r = (i % 2 == 0)
                   ? svc.act(atoms::approve::value, verdict("p-race", who))
                   : [&] {
                       auto v = verdict("p-race", who);
                       v.reason = "no";
                       return svc.act(atoms::reject::value, v);
                     }();
        if (r)
          ++wins;
        else if (service_code(r.error()) == service_errc::conflict)
          ++conflicts;
        else
          ++other;
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(wins == 1);
  CHECK(conflicts == 199);
  CHECK(other == 0);
  int verdict_entries = 0;
  for (const auto& row : audit_of(url, created->record.decision_id))
    verdict_entries += row.action == "approved" || row.action == "rejected"
                       || row.action == "approval_added";
  CHECK(verdict_entries == 1);
}

TEST_CASE("a final decision's pending SLA timer keeps nothing of its actor") {
  auto url = migrated_database("hitl_actor_timer_refs");
  running_service svc{url, service_config{}}; // deadlines hours away
  auto created = svc.create(sample_decision("p-t", urgency::medium, false));
  REQUIRE(created);
  // An actor of the decision, spawned as the supervisor spawns them: it
  // arms its SLA timer at once.
  auto actor = spawn_patch_actor(
    svc.system(), created->record, svc.actors().auditor,
    svc.actors().supervisor,
    std::make_shared<const policy_config>(service_config{}.policy));
  caf::actor_addr weak = actor.address();
  {
    caf::scoped_actor self{svc.system()};
    std::optional<decision_status> status;
    self->request(actor, 20s, atoms::approve::value, verdict("p-t", "alice"))
      .receive([&](decision_record& r) { status = r.status; },
               [&](caf::error&) {});
    REQUIRE(status == decision_status::approved);
    self->send(actor, atoms::stop::value);
  }
  actor = nullptr;
  // Freed once the messages in flight are delivered, hours before the
  // timer fires.
  CHECK(eventually([&] { return !caf::actor_cast<caf::actor>(weak); }, 30s));
}

TEST_CASE("recovery: missed levels fire once after restart, later on time") {
  auto url = migrated_database("hitl_actor_recovery");
  // Levels 3 s apart. The deadline is set once the first node is down, from
  // the database's clock: levels 1 and 2 are overdue at the restart, level 3
  // falls due 2.5 s later (or is overdue too, on a start that slow).
  auto config = fast_sla(3600, 3);
  std::string id;
  {
    running_service first{url, config};
    auto created = first.create(sample_decision("p-rec", urgency::high, false));
    REQUIRE(created);
    id = created->record.decision_id;
  } // down, an hour before the deadline it had
  sql_exec(url, "UPDATE hitl_decisions SET sla_deadline = now() - interval"
                " '3.5 s' WHERE decision_id = '" + id + "'");
  auto deadline = from_micros(std::stoll(
    sql_scalar(url, "SELECT hitl_micros(sla_deadline) FROM hitl_decisions"
                    " WHERE decision_id = '" + id + "'")));
  auto started = now();
  {
    running_service second{url, config};
    CHECK(second.actors().recovered == 1);
    REQUIRE(eventually(
      [&] { return escalation_levels(audit_of(url, id)).size() >= 3; }, 60s));
  } // stopped: nothing more comes from it
  CHECK(escalation_levels(audit_of(url, id)) == std::vector<int>{1, 2, 3});
  // The missed levels came after the restart; level 3 on its schedule,
  // never before it.
  for (int level = 1; level <= 3; ++level) {
    CAPTURE(level);
    auto due = level < 3 ? started : std::max(deadline + 6s, started);
    auto late = escalated_at(url, id, level) - to_seconds(due.time_since_epoch());
    MESSAGE("level " << level << " escalated " << late << " s after it was due");
    CHECK(late > -0.05);
  }
  // A third start finds nothing overdue: no level is written twice.
  {
    running_service third{url, config};
    CHECK(third.actors().recovered == 1);
    settle_due_timers(third, "p-rec");
  }
  CHECK(escalation_levels(audit_of(url, id)) == std::vector<int>{1, 2, 3});
  CHECK(sql_scalar(url, "SELECT escalation_level FROM hitl_decisions"
                        " WHERE decision_id = '" + id + "'")
        == "3");
}

TEST_CASE("recovery: a wave of deadlines larger than a wake-up batch") {
  auto url = migrated_database("hitl_actor_wave");
  constexpr int n = 12000; // more than two batches of wake-ups
  insert_open_decisions(url, "wave", n);
  auto due = now() + 1500ms;
  sql_exec(url, "UPDATE hitl_decisions SET sla_deadline = '" + format_iso(due)
                  + "'");
  running_service svc{url, fast_sla(3600, 60)};
  CHECK(svc.actors().recovered == static_cast<size_t>(n));
  // On a start slower than 1.5 s the wave is due at once: the same wake-ups.
  std::this_thread::sleep_until(std::chrono::system_clock::now()
                                + (due + 100ms - now()));
  // The supervisor keeps answering while it starts the wave: how fast
  // depends on the machine, so it is shown here; that it answers between
  // the batches is checked, deterministically, by the next test.
  size_t open = 0;
  {
    caf::scoped_actor self{svc.system()};
    auto asked = now();
    self->request(svc.actors().supervisor, 30s, atoms::stats::value)
      .receive([&](size_t k) { open = k; }, [](caf::error&) {});
    MESSAGE("supervisor answered in " << to_seconds(now() - asked)
                                      << " s during the wave");
  }
  CHECK(open == static_cast<size_t>(n));
  auto distinct = [&] {
    return sql_scalar(url, "SELECT count(DISTINCT decision_id)"
                           " FROM hitl_audit_logs WHERE action = 'escalated'");
  };
  CHECK(eventually([&] { return distinct() == std::to_string(n); }, 120s));
  MESSAGE("all escalated " << to_seconds(now() - due)
                           << " s after the deadline");
  svc.stop(); // nothing more can come
  CHECK(sql_scalar(url, "SELECT count(*) || '/' || count(DISTINCT decision_id)"
                        " FROM hitl_audit_logs WHERE action = 'escalated'")
        == std::to_string(n) + "/" + std::to_string(n));
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions"
                        " WHERE escalation_level = 1")
        == std::to_string(n));
}

TEST_CASE("the supervisor answers between the wake-up batches of a wave "
          "(deterministic)") {
  // CAF's test coordinator runs one message at a time, so the order is the
  // verdict, not a time: a request queued behind the wave's first wake-up
  // is answered before the whole wave has been started.
  auto url = migrated_database("hitl_actor_wave_steps");
  constexpr size_t n = 12000; // more than two batches of wake-ups
  insert_open_decisions(url, "step", static_cast<int>(n));
  sql_exec(url, "UPDATE hitl_decisions SET sla_deadline = now() - interval"
                " '1 minute'");
  pool_options o;
  o.url = url;
  connection_pool pool{o};
  std::vector<decision_record> open;
  pool.read([&](pqxx::transaction_base& txn) {
    open = load_open_decisions(txn);
  });
  REQUIRE(open.size() == n);
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto& sched =
    dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  // The auditor and the reader are detached (their own threads); nothing
  // below asks them anything.
  auto auditor = spawn_auditor(sys, pool, auditor_options{});
  auto reader = spawn_db_reader(sys, pool, 1);
  actor_stopper stop_detached{sys, {auditor, reader}};
  auto base = sys.registry().running();
  auto supervisor = spawn_supervisor(
    sys, std::make_shared<const policy_config>(fast_sla(3600, 60).policy),
    auditor, reader, std::move(open));
  // The supervisor and its children run only when the coordinator runs
  // them: stopped that way on every way out.
  struct stop_scheduled {
    caf::scheduler::test_coordinator& sched;
    supervisor_actor supervisor;
    ~stop_scheduled() {
      caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
      sched.run();
    }
  } stop{sched, supervisor};
  sched.run(); // started: every decision dormant, one timer for the wave
  CHECK(sys.registry().running() == base + 1);
  REQUIRE(sched.trigger_timeouts() == 1); // the wave falls due
  caf::scoped_actor self{sys};
  auto at_wave = sys.registry().running(); // the scoped actor counts too
  self->send(supervisor, atoms::stats::value); // behind the wake-up
  sched.run_once(); // the first wake-up, and no more
  auto started_then = sys.registry().running() - at_wave;
  REQUIRE(sched.prioritize(supervisor));
  sched.run_once(); // the supervisor's next message: the request
  size_t answered = 0;
  self->receive([&](size_t k) { answered = k; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK(answered == n);
  MESSAGE(started_then << " of " << n << " decisions started before the "
                                         "answer");
  CHECK(started_then > 0);
  CHECK(started_then < n);
  // The rest of the wave goes on after it: every decision started.
  sched.run();
  CHECK(sys.registry().running() - at_wave == n);
}

TEST_CASE("group commit: transactions stay far below audit entries") {
  auto url = migrated_database("hitl_actor_group");
  running_service svc{url, service_config{}};
  constexpr int n = 800;
  caf::scoped_actor self{svc.system()};
  for (int i = 0; i < n; ++i) {
    auto req = make_create_request(
      sample_decision("p-g" + std::to_string(i), urgency::medium, i % 2 == 0),
      caller{"wargaming", role::service, std::nullopt, std::nullopt,
             std::nullopt});
    self->send(svc.actors().supervisor, atoms::create::value, req);
  }
  int done = 0;
  self->receive_for(done, n)([](create_result&) {});
  auto stats = svc.auditor_stats_now();
  MESSAGE("transactions: " << stats.transactions
                           << ", entries: " << stats.entries);
  // Half auto-approved (2 entries), half pending (1).
  CHECK(stats.entries == n / 2 * 2 + n / 2);
  CHECK(stats.transactions * 10 <= stats.entries);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs")
        == std::to_string(stats.entries));
}

TEST_CASE("a patch actor whose state went stale is rebuilt from the database") {
  auto url = migrated_database("hitl_actor_rebuild");
  running_service svc{url, service_config{}};
  auto created = svc.create(sample_decision("p-stale", urgency::high, false));
  REQUIRE(created);
  // Another writer changes the row behind the actor's back (as a second node
  // or an operator would): its version moves on.
  sql_exec(url, "UPDATE hitl_decisions SET comment = 'edited elsewhere'"
                " WHERE patch_id = 'p-stale'");
  auto stale = svc.act(atoms::approve::value, verdict("p-stale", "alice"));
  REQUIRE_FALSE(stale);
  CHECK(service_code(stale.error()) == service_errc::conflict);
  // The failed actor was replaced by one loaded from the database, the judge.
  caf::expected<decision_record> fresh{caf::error{}};
  REQUIRE(eventually(
    [&] {
      fresh = svc.act(atoms::approve::value, verdict("p-stale", "alice"));
      return static_cast<bool>(fresh);
    },
    30s));
  CHECK(fresh->status == decision_status::approved);
  CHECK(fresh->comment == std::nullopt); // the verdict's own (empty) comment
  CHECK(fresh->version == 3);
  int verdicts = 0;
  for (const auto& row : audit_of(url, created->record.decision_id))
    verdicts += row.action == "approved";
  CHECK(verdicts == 1);
}

TEST_CASE("pipelined batches: a refused one is written alone, the ones behind "
          "it sealed again, every answer in order") {
  auto url = migrated_database("hitl_actor_pipeline");
  pool_options o;
  o.url = url;
  connection_pool pool{o};
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auditor_options opts;
  opts.max_batch = 1; // one change per batch, so that two are in flight
  auto auditor = spawn_auditor(sys, pool, opts);
  // Detached: without an exit on every way out, ~actor_system waits for it.
  actor_stopper stop{sys, {auditor}};
  caf::scoped_actor self{sys};
  policy_config policy;
  auto version = policy.version();
  caller service{"wargaming", role::service, std::nullopt, std::nullopt,
                 std::nullopt};
  auto creation = [&](const std::string& id) {
    auto nd = sample_decision("p-" + id, urgency::medium, false);
    return commit_request{create_change(policy, version, nd, content_hash(nd),
                                        id, "wargaming", now()),
                          service, 0};
  };
  decision_record first;
  self->request(auditor, 10s, atoms::commit::value, creation("d-1"))
    .receive([&](commit_receipt& r) { first = r.record; },
             [&](caf::error& e) { FAIL(to_string(e)); });
  REQUIRE(first.version == 1);

  // A burst, one batch each: creations, then an approval computed from a
  // version the decision never had (the guard refuses it: HT409) and a
  // creation whose id exists (unique violation), then more creations.
  std::vector<commit_request> burst;
  for (int i = 0; i < 40; ++i)
    burst.push_back(creation("b-" + std::to_string(i)));
  auto approval = approve_change(first, "alice", std::nullopt, now());
  REQUIRE(approval);
  burst.push_back(commit_request{
    approval.value(),
    caller{"alice", role::reviewer, std::nullopt, std::nullopt, std::nullopt},
    first.version + 5});
  auto duplicate = creation("d-1");
  duplicate.change.after.patch_id = "p-other";
  burst.push_back(duplicate);
  for (int i = 0; i < 40; ++i)
    burst.push_back(creation("c-" + std::to_string(i)));
  std::vector<std::string> answered;
  int refused = 0;
  for (auto& req : burst)
    self->send(auditor, atoms::commit::value, req);
  int n = 0;
  self->receive_for(n, static_cast<int>(burst.size()))(
    [&](commit_receipt& r) { answered.push_back(r.record.decision_id); },
    [&](caf::error& e) {
      CHECK(service_code(e) == service_errc::conflict);
      answered.push_back("refused");
      ++refused;
    });

  // Every requester answered once. The creations before the refused ones
  // in the order of their commits; those behind, in the order of their
  // commits too, except that one written behind a refused batch in another
  // partition's chain (nothing of it depended on the refused one) may be
  // answered before that refused one.
  REQUIRE(answered.size() == burst.size());
  for (int i = 0; i < 40; ++i)
    CHECK(answered[static_cast<size_t>(i)] == "b-" + std::to_string(i));
  std::vector<std::string> behind;
  for (size_t i = 40; i < answered.size(); ++i)
    if (answered[i] != "refused")
      behind.push_back(answered[i]);
  REQUIRE(behind.size() == 40);
  for (int i = 0; i < 40; ++i)
    CHECK(behind[static_cast<size_t>(i)] == "c-" + std::to_string(i));
  CHECK(refused == 2);

  auditor_stats stats;
  self->request(auditor, 10s, atoms::stats::value)
    .receive([&](auditor_stats& s) { stats = s; }, [](caf::error&) {});
  MESSAGE("transactions " << stats.transactions << ", resealed "
                          << stats.resealed_batches);
  CHECK(stats.resealed_batches >= 1);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions") == "81");
  CHECK(sql_scalar(url, "SELECT version FROM hitl_decisions"
                        " WHERE decision_id = 'd-1'")
        == "1");
  // The chain has one entry per creation, each sealed after the one that
  // was really written before it.
  auto report = verify_audit_trail(pool);
  CHECK_FALSE(report.first_break);
  CHECK(report.checked == 81);
  CHECK(sql_scalar(url, "SELECT sum(chain_seq) FROM hitl_partitions") == "81");
}

TEST_CASE("pipelined batches: a PostgreSQL restart between commits costs "
          "no commit") {
  auto url = migrated_database("hitl_actor_pipe_restart");
  running_service svc{url, service_config{}};
  REQUIRE(svc.create(sample_decision("p-before", urgency::high, false)));
  pg_ctl("restart");
  // The writer's connection is dead; it is found so before the next batch
  // is sent into it, and the batch goes over a new one.
  auto after = svc.create(sample_decision("p-after", urgency::high, false));
  REQUIRE(after);
  CHECK(after->record.status == decision_status::pending);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs") == "2");
  pool_options o;
  o.url = url;
  connection_pool pool{o};
  CHECK_FALSE(verify_audit_trail(pool).first_break);
}

TEST_CASE("server-made decision ids are UUIDs of version 7, in creation order") {
  auto url = migrated_database("hitl_actor_ids");
  running_service svc{url, service_config{}};
  auto ms_of = [](timestamp t) { return to_micros(t) / 1000; };
  auto ms_in = [](const std::string& id) {
    return static_cast<int64_t>(
      std::stoull(id.substr(0, 8) + id.substr(9, 4), nullptr, 16));
  };
  std::vector<std::string> ids;
  auto before = ms_of(now());
  for (int i = 0; i < 5; ++i) {
    auto created = svc.create(
      sample_decision("p-id" + std::to_string(i), urgency::low, false));
    REQUIRE(created);
    ids.push_back(created->record.decision_id);
    REQUIRE(ids.back().size() == 36);
    // A new millisecond for each: ids of one millisecond need not sort.
    auto made = ms_in(ids.back());
    REQUIRE(eventually([&] { return ms_of(now()) > made; }));
  }
  for (const auto& id : ids) {
    CAPTURE(id);
    CHECK(id[8] == '-');
    CHECK(id[14] == '7'); // the version
    CHECK(std::string{"89ab"}.find(id[19]) != std::string::npos); // variant
    CHECK(id.find_first_not_of("0123456789abcdef-") == std::string::npos);
  }
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  // Their first 48 bits are the creation time in milliseconds: taken after
  // the request was sent and no later than the record's created_at.
  auto created_ms = std::stoll(sql_scalar(
    url, "SELECT floor(extract(epoch FROM created_at) * 1000)::bigint"
         " FROM hitl_decisions WHERE decision_id = '" + ids[0] + "'"));
  CHECK(before <= ms_in(ids[0]));
  CHECK(ms_in(ids[0]) <= created_ms);
}
