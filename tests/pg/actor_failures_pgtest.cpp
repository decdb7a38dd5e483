// Exceptions inside the actors of the request and write path, provoked for
// real on real actors and PostgreSQL: the requester is answered `internal`
// (500 over HTTP), the actor goes on or is rebuilt, and
// hitl_actor_failures_total{actor} counts it. Where no input can make an
// actor throw, a failure_drill does (actors/guarded_actor.hpp): a message
// that only this process can send.

#include "tests/pg/metrics_text.hpp"
#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/service_fixture.hpp"
#include "tests/pg/webhook_receiver.hpp"

#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/health_check.hpp"
#include "actors/service_error.hpp"
#include "http/bridge.hpp"
#include "http/edge_actors.hpp"
#include "http/event_stream.hpp"
#include "http/token_cache.hpp"
#include "persistence/audit_verification.hpp"
#include "persistence/token_repository.hpp"
#include "policy/lifecycle.hpp"
#include "policy/policy_config.hpp"

#include <doctest/doctest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <cmath>
#include <future>
#include <map>
#include <thread>

using namespace hitl;
using namespace hitl::test;
using namespace std::chrono_literals;

namespace {

double failures_of(const running_service& svc, const std::string& actor) {
  return series_value(svc.metrics_text(), failures_series(actor));
}

double failures_of(const prometheus::Registry& reg, const std::string& actor) {
  return series_value(prometheus::TextSerializer{}.Serialize(reg.Collect()),
                      failures_series(actor));
}

/// The error that `to` answers `xs` with (a drill gets no other answer;
/// any value would arrive here as an unexpected response).
template <class Handle, class... Ts>
caf::error error_of(caf::actor_system& sys, const Handle& to, Ts... xs) {
  caf::scoped_actor self{sys};
  caf::error out;
  // Untyped: a drill is no part of any actor's protocol.
  self->request(caf::actor_cast<caf::actor>(to), 20s, xs...)
    .receive([&](bool) { FAIL("answered with a value"); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

/// The failures of `actor` counted in `reg` once they reach `n` (or after
/// 10 s): for requesters answered before the count, as a bridge's client or
/// a batch dropped by the auditor are.
double failures_reaching(const prometheus::Registry& reg,
                         const std::string& actor, double n) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (failures_of(reg, actor) < n
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  return failures_of(reg, actor);
}

bool is_internal(const caf::error& e) {
  return e && service_code(e) == service_errc::internal;
}

// Answered `internal`, and without the exception's text: a client sees the
// same fixed sentence whatever failed.
void check_drill_answer(const caf::error& e) {
  CHECK_MESSAGE(is_internal(e), to_string(e));
  CHECK(service_detail(e).find("drill") == std::string::npos);
}

template <class T, class Handle, class... Ts>
std::optional<T> value_of(caf::actor_system& sys, const Handle& to,
                          Ts... xs) {
  caf::scoped_actor self{sys};
  std::optional<T> out;
  self->request(to, 20s, xs...)
    .receive([&](T& v) { out = std::move(v); }, [&](caf::error&) {});
  return out;
}

} // namespace

TEST_CASE("failure drills in the supervisor, the readers, the metrics actor "
          "and the notifier: each answered 500, each goes on") {
  auto url = migrated_database("hitl_fail_drill");
  webhook_receiver receiver;
  service_config config;
  config.webhooks = {{receiver.url(), {"decision.created"}, "s3cret"}};
  running_service svc{url, config};
  auto& sys = svc.system();
  auto& a = svc.actors();
  for (auto name : {"supervisor", "reader", "metrics", "notifier"})
    CHECK(failures_of(svc, name) == 0);

  check_drill_answer(error_of(sys, a.supervisor, failure_drill{"supervisor"}));
  CHECK(failures_of(svc, "supervisor") == 1);
  auto first = svc.create(sample_decision("p-drill-1", urgency::high, false));
  REQUIRE(first);
  CHECK(value_of<size_t>(sys, a.supervisor, atoms::stats::value) == size_t{1});

  // Round robin: one drill for each of the three workers, then each reads.
  for (int i = 0; i < 3; ++i)
    check_drill_answer(error_of(sys, a.reader, failure_drill{"reader"}));
  CHECK(failures_of(svc, "reader") == 3);
  for (int i = 0; i < 3; ++i)
    CHECK(value_of<bool>(sys, a.reader, atoms::ping::value) == true);

  auto open_before = value_of<int64_t>(sys, a.metrics, atoms::stats::value);
  REQUIRE(open_before);
  check_drill_answer(error_of(sys, a.metrics, failure_drill{"metrics"}));
  CHECK(failures_of(svc, "metrics") == 1);

  check_drill_answer(error_of(sys, a.notifier, failure_drill{"notifier"}));
  CHECK(failures_of(svc, "notifier") == 1);

  // Both still follow the commits: the gauge counts the new decision, and
  // its webhook is delivered.
  auto second = svc.create(sample_decision("p-drill-2", urgency::high, false));
  REQUIRE(second);
  CHECK(value_of<int64_t>(sys, a.metrics, atoms::stats::value)
        == *open_before + 1);
  CHECK(svc.metrics_text().find("hitl_pending_patches 2") != std::string::npos);
  auto id = second->record.decision_id;
  CHECK(receiver.wait_for(
    [&](const std::vector<received_hook>& hooks) {
      for (const auto& h : hooks)
        if (h.body.find(id) != std::string::npos)
          return true;
      return false;
    },
    20s));
}

TEST_CASE("an exception in a patch actor: answered 500, the actor rebuilt "
          "from the database") {
  auto url = migrated_database("hitl_fail_patch");
  running_service svc{url, service_config{}};
  auto created = svc.create(sample_decision("p-throw", urgency::high, false));
  REQUIRE(created);
  auto& sys = svc.system();

  // Routed by the supervisor to the decision's actor, where it throws.
  check_drill_answer(error_of(sys, svc.actors().supervisor,
                              failure_drill{"patch"},
                              verdict("p-throw", "alice")));
  CHECK(failures_of(svc, "patch") == 1);
  CHECK(failures_of(svc, "supervisor") == 0);

  // The supervisor saw it go and loads it again; meanwhile a verdict hears
  // 503 (retry), never 500, and lands exactly once.
  caf::expected<decision_record> approved{caf::error{}};
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    approved = svc.act(atoms::approve::value, verdict("p-throw", "alice"));
    if (approved)
      break;
    CHECK_MESSAGE(service_code(approved.error()) == service_errc::unavailable,
                  to_string(approved.error()));
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(approved);
  CHECK(approved->status == decision_status::approved);
  int verdicts = 0;
  for (const auto& row : audit_of(url, created->record.decision_id))
    verdicts += row.action == "approved";
  CHECK(verdicts == 1);
}

namespace {

// A node's auditor alone, one change per batch, so that two are in flight.
struct lone_auditor {
  std::string url;
  pool_options opts = [this] {
    pool_options o;
    o.url = url;
    return o;
  }();
  connection_pool pool{opts};
  caf::actor_system_config cfg = [] {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", 2);
    c.set("logger.verbosity", caf::atom("quiet"));
    return c;
  }();
  caf::actor_system sys{cfg};
  std::shared_ptr<prometheus::Registry> registry =
    std::make_shared<prometheus::Registry>();
  auditor_actor auditor;
  policy_config policy;
  std::string version = policy.version();

  lone_auditor(std::string db, std::vector<webhook_subscription> hooks = {})
    : url(std::move(db)) {
    auditor_options o;
    o.max_batch = 1;
    o.failures = actor_failures{registry};
    o.webhooks = std::move(hooks);
    auditor = spawn_auditor(sys, pool, o);
  }
  ~lone_auditor() {
    caf::anon_send_exit(auditor, caf::exit_reason::user_shutdown);
  }

  commit_request creation(const std::string& id) {
    auto nd = sample_decision("p-" + id, urgency::medium, false);
    return commit_request{create_change(policy, version, nd, content_hash(nd),
                                        id, "wargaming", now()),
                          caller{"wargaming", role::service, std::nullopt,
                                 std::nullopt, std::nullopt},
                          0};
  }

  // After a failure: it still commits, over a new connection, sealing after
  // the head that the database has, and every entry verifies.
  void check_goes_on(const std::vector<std::string>& committed) {
    caf::scoped_actor self{sys};
    self->request(auditor, 30s, atoms::commit::value, creation("after"))
      .receive([](commit_receipt&) {},
               [](caf::error& e) { FAIL(to_string(e)); });
    CHECK(value_of<bool>(sys, auditor, atoms::ping::value) == true);
    for (const auto& id : committed)
      CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions WHERE "
                            "decision_id = '" + id + "'")
            == "1");
    auto report = verify_audit_trail(pool);
    CHECK_FALSE(report.first_break);
    CHECK(report.checked
          == std::stoll(
            sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs")));
  }
};

} // namespace

TEST_CASE("a failure in the auditor with batches in flight: those in doubt "
          "answered 503, the queue committed, the chain intact") {
  lone_auditor a{migrated_database("hitl_fail_auditor")};
  caf::scoped_actor self{a.sys};
  // 20 commits, the drill, 20 more, all sent at once: when the drill throws,
  // batches are in flight and commits queued behind it.
  std::vector<std::string> ids;
  for (int i = 0; i < 41; ++i)
    ids.push_back(i == 20 ? "drill" : "d-" + std::to_string(i));
  // Untyped: a drill is no part of the auditor's protocol.
  auto auditor = caf::actor_cast<caf::actor>(a.auditor);
  using handle = decltype(self->request(auditor, 30s, failure_drill{}));
  std::vector<handle> handles;
  for (const auto& id : ids)
    handles.push_back(
      id == "drill"
        ? self->request(auditor, 30s, failure_drill{"auditor"})
        : self->request(auditor, 30s, atoms::commit::value,
                        a.creation(id)));
  std::map<std::string, int> outcomes;
  std::vector<std::string> committed;
  for (size_t i = 0; i < ids.size(); ++i) {
    CAPTURE(ids[i]);
    handles[i].receive(
      [&](commit_receipt& r) {
        CHECK(r.record.decision_id == ids[i]);
        ++outcomes["committed"];
        committed.push_back(ids[i]);
      },
      [&](caf::error& e) {
        if (ids[i] == "drill") {
          check_drill_answer(e);
          ++outcomes["failed"];
        } else {
          // In flight when it failed: it may or may not have landed.
          CHECK_MESSAGE(service_code(e) == service_errc::unavailable,
                        to_string(e));
          ++outcomes["in doubt"];
        }
      });
  }
  MESSAGE("committed " << outcomes["committed"] << ", in doubt "
                       << outcomes["in doubt"]);
  CHECK(outcomes["failed"] == 1);
  CHECK(outcomes["in doubt"] <= 2);
  CHECK(outcomes["committed"] + outcomes["in doubt"] == 40);
  CHECK(failures_of(*a.registry, "auditor") == 1);
  a.check_goes_on(committed);
}

TEST_CASE("an exception while the auditor seals a batch: its requester "
          "answered at once, the auditor goes on") {
  // A webhook wants the event, so sealing writes its payload, and this
  // record's text is not UTF-8: no client can send that (the HTTP edge
  // parses JSON), but a change from inside the process can. Sealing throws
  // where JSON is written strictly; where it is not, the database has the
  // last word. Either way the requester hears at once, and a failure is
  // counted.
  lone_auditor a{migrated_database("hitl_fail_seal"),
                 {{"http://127.0.0.1:9/hook", {"decision.created"}, "k"}}};
  auto bad = a.creation("bad");
  bad.change.after.metadata.package_name = "lib\xff\xfe";
  caf::scoped_actor self{a.sys};
  auto good_before = self->request(a.auditor, 30s, atoms::commit::value,
                                   a.creation("before"));
  auto bad_one = self->request(a.auditor, 30s, atoms::commit::value, bad);
  std::vector<std::string> committed;
  good_before.receive(
    [&](commit_receipt& r) { committed.push_back(r.record.decision_id); },
    [&](caf::error& e) {
      CHECK_MESSAGE(service_code(e) == service_errc::unavailable,
                    to_string(e));
    });
  // Since every JSON writer replaces what is not UTF-8 (issue 17), sealing
  // does not throw on it any more: the change is then committed, or refused
  // by the database. Either way the requester hears at once and the
  // auditor goes on.
  caf::error refused;
  bool stored = false;
  bad_one.receive(
    [&](commit_receipt&) { stored = true; },
    [&](caf::error& e) { refused = e; });
  if (!stored) {
    REQUIRE(refused);
    MESSAGE("answered " << to_string(refused));
    CHECK(service_code(refused) != service_errc::unavailable); // no timeout
    bool sealing_threw = service_code(refused) == service_errc::internal
                         && service_detail(refused).find("auditor failed")
                              != std::string::npos;
    if (sealing_threw)
      CHECK(failures_reaching(*a.registry, "auditor", 1) == 1);
    else
      CHECK(failures_of(*a.registry, "auditor") == 0);
  } else {
    MESSAGE("committed");
    CHECK(failures_of(*a.registry, "auditor") == 0);
  }
  a.check_goes_on(committed);
}

TEST_CASE("a bridge whose job or continuation throws: the client answered, "
          "the bridge goes on") {
  auto url = migrated_database("hitl_fail_bridge");
  running_service svc{url, service_config{}};
  auto& sys = svc.system();
  auto registry = std::make_shared<prometheus::Registry>();
  auto bridge = spawn_bridge(sys, actor_failures{registry});
  auto supervisor = svc.actors().supervisor;

  // As server.cpp's ask does: the continuation renders the answer, and
  // `answer` is what the client gets when that throws (its 500).
  auto run = [&](bool throw_in_job, bool throw_in_continuation) {
    auto outcome = std::make_shared<std::promise<std::string>>();
    auto said = std::make_shared<std::atomic<bool>>(false);
    auto say = [outcome, said](std::string what) {
      if (!said->exchange(true))
        outcome->set_value(std::move(what));
    };
    auto answer = [say] { say("500"); };
    auto fut = outcome->get_future();
    caf::anon_send(
      bridge,
      bridge_job{answering(
        [=](caf::event_based_actor* self) {
          if (throw_in_job)
            throw std::runtime_error("the job failed");
          self->request(supervisor, 10s, atoms::stats::value)
            .then(answering(
                    [=](size_t open) {
                      if (throw_in_continuation)
                        throw std::runtime_error("rendering failed");
                      say("200 " + std::to_string(open));
                    },
                    answer),
                  answering([=](caf::error&) { say("503"); }, answer));
        },
        answer)});
    REQUIRE(fut.wait_for(20s) == std::future_status::ready);
    return fut.get();
  };
  // The client is answered first, then the bridge counts.
  auto counted = [&](double n) {
    return failures_reaching(*registry, "bridge", n);
  };
  CHECK(run(false, true) == "500");
  CHECK(counted(1) == 1);
  CHECK(run(false, false) == "200 0");
  CHECK(run(true, false) == "500");
  CHECK(counted(2) == 2);
  CHECK(run(false, false) == "200 0");
  CHECK(counted(2) == 2);
  caf::anon_send_exit(bridge, caf::exit_reason::user_shutdown);
}

TEST_CASE("the health actor, the token refresher and the event feed go on "
          "after a failure drill") {
  auto url = migrated_database("hitl_fail_edge");
  running_service svc{url, service_config{}};
  auto& sys = svc.system();
  auto& a = svc.actors();
  auto registry = std::make_shared<prometheus::Registry>();
  actor_failures failures{registry};

  auto health = spawn_health_check(
    sys, caf::actor_cast<pingable>(a.supervisor), a.auditor, a.reader,
    membership_actor{}, registry);
  auto report = value_of<health_report>(sys, health, atoms::health::value);
  REQUIRE(report);
  CHECK(report->ok());
  check_drill_answer(error_of(sys, health, failure_drill{"health"}));
  CHECK(failures_of(*registry, "health") == 1);
  CHECK(value_of<health_report>(sys, health, atoms::health::value));

  token_cache cache;
  event_stream stream;
  auto refresher =
    spawn_token_refresher(sys, a.reader, cache, stream, failures);
  check_drill_answer(error_of(sys, refresher, failure_drill{"refresher"}));
  CHECK(failures_of(*registry, "token_refresher") == 1);
  // Still refreshing: a token made after the drill reaches the cache.
  auto made = run_hitl({"token", "create", "--name", "late", "--role",
                        "reviewer", "--database-url", url});
  REQUIRE(made.exit_code == 0);
  auto hash = hash_token(made.out.substr(0, made.out.find('\n')));
  token_info info;
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (cache.find(hash, info) != token_cache::lookup::valid
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(cache.find(hash, info) == token_cache::lookup::valid);

  auto feed = spawn_event_feed(sys, a.feed, stream, "http://hitl.test",
                               failures);
  check_drill_answer(error_of(sys, feed, failure_drill{"feed"}));
  check_drill_answer(error_of(sys, feed, failure_drill{"feed"}));
  CHECK(failures_of(*registry, "event_feed") == 2);
  // Events still reach it (with no client it only skips them) and it still
  // answers after them.
  REQUIRE(svc.create(sample_decision("p-feed", urgency::high, false)));
  check_drill_answer(error_of(sys, feed, failure_drill{"feed"}));
  CHECK(failures_of(*registry, "event_feed") == 3);

  for (const caf::actor& x :
       {caf::actor_cast<caf::actor>(health), refresher, feed})
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
}

TEST_CASE("the health actor shares one round of checks among the requests "
          "of a second") {
  auto url = migrated_database("hitl_health_rounds");
  running_service svc{url, service_config{}};
  auto& sys = svc.system();
  auto& a = svc.actors();
  auto registry = std::make_shared<prometheus::Registry>();
  auto health = spawn_health_check(
    sys, caf::actor_cast<pingable>(a.supervisor), a.auditor, a.reader,
    membership_actor{}, registry);
  auto rounds = [&] {
    return series_value(prometheus::TextSerializer{}.Serialize(
                          registry->Collect()),
                        "hitl_health_probes_total");
  };
  // A first round; a second later its report is stale, and the burst below
  // needs a new one, which all of it shares.
  REQUIRE(value_of<health_report>(sys, health, atoms::health::value));
  auto before = rounds();
  std::this_thread::sleep_for(1100ms);
  caf::scoped_actor self{sys};
  constexpr int n = 500;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    self->send(health, atoms::health::value);
  int ok = 0;
  int got = 0;
  self->receive_for(got, n)(
    [&](health_report& r) { ok += r.ok(); },
    caf::after(30s) >> [&] { got = n; });
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - started)
                .count();
  auto during = rounds() - before;
  MESSAGE(n << " requests in " << took << " s: " << during << " round(s)");
  CHECK(ok == n);
  // A round starts at most once a second, whatever the machine's speed.
  CHECK(during >= 1);
  CHECK(during <= std::floor(took) + 1);
  caf::anon_send_exit(health, caf::exit_reason::user_shutdown);
}
