#include "actors/service.hpp"

#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/change_clock.hpp"
#include "actors/db_reader.hpp"
#include "actors/messages.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/notifier.hpp"
#include "actors/supervisor.hpp"
#include "persistence/analytics_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_repository.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

namespace hitl {

service_actors start_service(caf::actor_system& sys, connection_pool& pool,
                             const service_config& config,
                             std::shared_ptr<prometheus::Registry> registry) {
  std::vector<decision_record> open;
  decision_summary totals;
  auto started = std::chrono::steady_clock::now();
  pool.read([&](pqxx::transaction_base& txn) {
    open = load_open_decisions(txn);
    totals = read_decision_summary(txn, std::nullopt, std::nullopt);
  });
  service_actors a;
  a.recovered = open.size();
  auditor_options audit_opts;
  audit_opts.webhooks = config.webhooks;
  audit_opts.public_url = config.public_url;
  audit_opts.registry = registry;
  a.changes = std::make_shared<change_clock>();
  audit_opts.changes = a.changes;
  a.auditor = spawn_auditor(sys, pool, std::move(audit_opts));
  a.reader = spawn_db_reader(sys, pool, 3);
  a.metrics = spawn_metrics_actor(sys, registry, totals,
                                  config.policy.max_escalation_level);
  caf::anon_send(a.auditor, atoms::subscribe::value, a.metrics);
  a.notifier = spawn_notifier(sys, pool, config, std::move(registry));
  if (!config.webhooks.empty()) // else only its tick looks at the outbox
    caf::anon_send(a.auditor, atoms::subscribe::value, a.notifier);
  auto policy = std::make_shared<const policy_config>(config.policy);
  a.supervisor = spawn_supervisor(sys, policy, a.auditor, a.reader,
                                  std::move(open));
  spdlog::info("recovered {} open decisions in {:.3f} s", a.recovered,
               std::chrono::duration<double>(std::chrono::steady_clock::now()
                                             - started)
                 .count());
  return a;
}

void stop_service(caf::actor_system& sys, service_actors& a) {
  caf::scoped_actor self{sys};
  auto stop = [&](caf::actor& x) {
    if (!x)
      return;
    self->monitor(x);
    self->send_exit(x, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {},
                  caf::after(std::chrono::seconds(10)) >> [] {});
    x = nullptr;
  };
  stop(a.supervisor);
  stop(a.notifier);
  stop(a.metrics);
  stop(a.reader);
  stop(a.auditor);
}

} // namespace hitl
