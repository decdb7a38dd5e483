#include "tests/pg/simulated_service.hpp"

#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/db_reader.hpp"
#include "actors/event_listener.hpp"
#include "persistence/analytics_repository.hpp"
#include "persistence/decision_repository.hpp"
#include "tests/pg/actor_shutdown.hpp"
#include "tests/pg/pg_fixture.hpp"

#include <doctest/doctest.h>
#include <pqxx/pqxx>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace hitl::test {

simulated_service::simulated_service(const std::string& url,
                                     const policy_config& policy,
                                     timestamp at, start how) {
  pool_options o;
  o.url = runtime_url(url);
  o.min_size = 1;
  o.max_size = 2;
  pool_ = std::make_unique<connection_pool>(o);
  std::optional<std::vector<decision_record>> open;
  if (how == start::load_all)
    open.emplace();
  decision_summary totals;
  pool_->read([&](pqxx::transaction_base& txn) {
    if (open)
      *open = load_open_decisions(txn);
    totals = read_decision_summary(txn, std::nullopt, std::nullopt);
  });
  recovered_ = open ? open->size() : 0;
  cfg_.set("scheduler.policy", caf::atom("testing"));
  cfg_.set("logger.verbosity", caf::atom("quiet"));
  sys_ = std::make_unique<caf::actor_system>(cfg_);
  sched_ = &dynamic_cast<caf::scheduler::test_coordinator&>(sys_->scheduler());
  wall_at_start_ = at;
  clock_at_start_ = sched_->clock().now();
  auto clock = [this] { return now(); };
  // Nothing runs on a thread of its own, so every message is one the
  // coordinator runs: no answer can arrive while the test looks.
  auditor_options audit;
  audit.clock = clock;
  audit.detached = false;
  auditor_ = spawn_auditor(*sys_, *pool_, std::move(audit));
  reader_ = spawn_db_reader(*sys_, *pool_, 1, actor_failures{}, false);
  registry_ = std::make_shared<prometheus::Registry>();
  metrics_ = spawn_metrics_actor(*sys_, registry_, totals,
                                 policy.max_escalation_level);
  caf::anon_send(auditor_, atoms::subscribe::value, event_listener{metrics_});
  // Its commits reach the feed from the auditor; the feed's reads of the
  // log (for other nodes' commits, of which there are none here) an hour
  // apart, so that advancing the clock does not run thousands of them.
  cluster_feed_options feed;
  feed.reader = reader_;
  feed.interval = std::chrono::hours(1);
  feed.reset_after = std::chrono::hours(24);
  feed_ = spawn_cluster_feed(*sys_, std::move(feed));
  caf::anon_send(auditor_, atoms::subscribe::value,
                 caf::actor_cast<event_listener>(feed_));
  supervisor_ = spawn_supervisor(
    *sys_, std::make_shared<const policy_config>(policy), auditor_, reader_,
    std::move(open), actor_failures{}, clock);
  self_ = std::make_unique<caf::scoped_actor>(*sys_);
  // Each spawned, none run yet: the supervisor spawns patch actors only
  // when it runs.
  core_actors_ = sys_->registry().running();
  run(); // started: the supervisor indexed what it recovered
}

simulated_service::~simulated_service() {
  // The auditor answers what it holds before it goes, the supervisor stops
  // its patch actors: all of it is run here, so nothing is left behind.
  for (auto a : {caf::actor_cast<caf::actor>(supervisor_),
                 caf::actor_cast<caf::actor>(feed_),
                 caf::actor_cast<caf::actor>(auditor_),
                 caf::actor_cast<caf::actor>(reader_),
                 caf::actor_cast<caf::actor>(metrics_)})
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  sched_->run();
  self_.reset();
  supervisor_ = nullptr;
  feed_ = nullptr;
  auditor_ = nullptr;
  reader_ = nullptr;
  metrics_ = nullptr;
  sched_->run();
  // Rather than hang in ~actor_system if an actor did not stop: ends the
  // run saying so.
  await_actors_stopped(*sys_, std::chrono::seconds(10));
}

timestamp simulated_service::now() const {
  return wall_at_start_
         + std::chrono::duration_cast<duration>(sched_->clock().now()
                                                - clock_at_start_);
}

void simulated_service::run() {
  advance_to(now());
}

void simulated_service::advance_to(timestamp t) {
  REQUIRE(t >= now());
  auto& clock = sched_->clock();
  auto target = clock_at_start_ + (t - wall_at_start_);
  sched_->run();
  // One timer at a time, each at its own instant (trigger_timeout moves the
  // clock to it), and what it starts runs before the next one fires. A
  // message sent with no delay goes through the clock as well: it fires at
  // the current instant.
  while (!clock.schedule().empty()
         && clock.schedule().begin()->first <= target) {
    clock.trigger_timeout();
    sched_->run();
  }
  clock.current_time = target;
}

caf::expected<create_result>
simulated_service::create(const new_decision& nd) {
  return ask<create_result>(
    atoms::create::value,
    make_create_request(nd, caller{"wargaming", role::service,
                                   std::string{"127.0.0.1"},
                                   std::string{"test"}, std::nullopt}));
}

caf::expected<comment> simulated_service::comment_on(const verdict_request& v) {
  return ask<comment>(atoms::comment::value, v);
}

size_t simulated_service::open_count() {
  auto n = ask<size_t>(atoms::stats::value);
  REQUIRE(n);
  return *n;
}

size_t simulated_service::patch_actors() const {
  return sys_->registry().running() - core_actors_;
}

std::string simulated_service::metrics_text() const {
  return prometheus::TextSerializer{}.Serialize(registry_->Collect());
}

} // namespace hitl::test
