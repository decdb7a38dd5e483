#include "actors/service.hpp"

#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/change_clock.hpp"
#include "actors/checkpoint_signer.hpp"
#include "actors/freed_memory.hpp"
#include "actors/db_reader.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/notifier.hpp"
#include "actors/supervisor.hpp"
#include "persistence/analytics_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_repository.hpp"
#include "persistence/signing_key_file.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace hitl {

service_actors start_service(caf::actor_system& sys, connection_pool& pool,
                             const service_settings& config,
                             std::shared_ptr<prometheus::Registry> registry,
                             open_decisions how) {
  std::shared_ptr<const signing_key> key;
  if (!config.audit.signing_key.empty())
    key = std::make_shared<const signing_key>(
      read_key_file(config.audit.signing_key));
  std::optional<std::vector<decision_record>> open;
  if (how == open_decisions::load_all)
    open.emplace();
  decision_summary totals;
  auto started = std::chrono::steady_clock::now();
  pool.read([&](pqxx::transaction_base& txn) {
    if (open)
      *open = load_open_decisions(txn);
    totals = read_decision_summary(txn, std::nullopt, std::nullopt);
  });
  service_actors a;
  a.recovered = open ? open->size() : 0;
  actor_failures failures{registry};
  auditor_options audit_opts;
  audit_opts.webhooks = config.webhooks;
  audit_opts.public_url = config.public_url;
  audit_opts.registry = registry;
  a.changes = std::make_shared<change_clock>();
  audit_opts.changes = a.changes;
  audit_opts.failures = failures;
  a.auditor = spawn_auditor(sys, pool, std::move(audit_opts));
  a.reader = spawn_db_reader(sys, pool, 3, failures);
  // The gauges describe the system: every node's commits, read again from
  // the database (the open count is a few rows; the ratios a scan).
  a.metrics = spawn_metrics_actor(
    sys, registry, totals, config.policy.max_escalation_level,
    gauge_refresh{a.reader, std::chrono::seconds(2),
                  std::chrono::seconds(60)});
  caf::anon_send(a.auditor, atoms::subscribe::value,
                 event_listener{a.metrics});
  a.positions = std::make_shared<feed_positions>();
  a.audience = std::make_shared<feed_audience>();
  a.feed = spawn_cluster_feed(
    sys, cluster_feed_options{a.reader, a.changes, a.positions, a.audience,
                              std::chrono::duration_cast<
                                std::chrono::milliseconds>(
                                config.feed_interval),
                              std::chrono::milliseconds(5000), failures});
  caf::anon_send(a.auditor, atoms::subscribe::value,
                 caf::actor_cast<event_listener>(a.feed));
  a.notifier = spawn_notifier(sys, pool, config, std::move(registry));
  caf::anon_send(a.auditor, atoms::subscribe::value, a.notifier);
  auto policy = std::make_shared<const policy_config>(config.policy);
  a.supervisor = spawn_supervisor(sys, policy, a.auditor, a.reader,
                                  std::move(open), failures);
  if (key) {
    a.audit_public_key_pem = key->public_key().to_pem();
    spdlog::info("signing audit checkpoints with key {} every {:.3f} s",
                 key->public_key().key_id(),
                 std::chrono::duration<double>(
                   config.audit.checkpoint_interval)
                   .count());
    a.checkpoint_signer = spawn_checkpoint_signer(
      sys, pool,
      checkpoint_signer_options{std::move(key), config.audit, config.webhooks,
                                failures});
  }
  if (a.recovered >= freed_memory_threshold)
    return_freed_memory();
  if (how == open_decisions::load_all)
    spdlog::info("recovered {} open decisions in {:.3f} s", a.recovered,
                 std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - started)
                   .count());
  return a;
}

void stop_service(caf::actor_system& sys, service_actors& a) {
  caf::scoped_actor self{sys};
  auto stop = [&](auto& x) {
    if (!x)
      return;
    self->monitor(x);
    self->send_exit(x, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(10)) >> [] {});
    x = nullptr;
  };
  stop(a.checkpoint_signer);
  stop(a.supervisor);
  stop(a.notifier);
  stop(a.feed);
  stop(a.metrics);
  stop(a.reader);
  stop(a.auditor);
}

} // namespace hitl
