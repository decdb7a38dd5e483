#include "actors/service.hpp"

#include "actors/atoms.hpp"
#include "actors/auditor.hpp"
#include "actors/change_clock.hpp"
#include "actors/checkpoint_signer.hpp"
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

// jemalloc's control interface, when the binary links jemalloc (`hitl` does,
// the test binaries do not): weak, so it is null without it.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp,
                       void* newp, size_t newlen) __attribute__((weak));

namespace hitl {

namespace {

/// From this many recovered decisions on, the memory their loading freed is
/// handed back to the system at start.
constexpr size_t purge_threshold = 10000;

// Loading the open decisions took about twice the memory that keeping them
// takes (the query's result, the loader's index), freed by the time the
// supervisor starts. jemalloc gives freed pages back to the system only as
// later allocations advance its decay clock, and a node that just started is
// idle: without this its RSS stays at the loading's peak.
void return_freed_memory() {
  if (mallctl == nullptr)
    return;
  auto started = std::chrono::steady_clock::now();
  // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty pages.
  if (auto err = mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0))
    spdlog::warn("jemalloc purge failed: error {}", err);
  else
    spdlog::info("returned freed memory to the system in {:.3f} s",
                 std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - started)
                   .count());
}

} // namespace

service_actors start_service(caf::actor_system& sys, connection_pool& pool,
                             const service_settings& config,
                             std::shared_ptr<prometheus::Registry> registry) {
  std::shared_ptr<const signing_key> key;
  if (!config.audit.signing_key.empty())
    key = std::make_shared<const signing_key>(
      read_key_file(config.audit.signing_key));
  std::vector<decision_record> open;
  decision_summary totals;
  auto started = std::chrono::steady_clock::now();
  pool.read([&](pqxx::transaction_base& txn) {
    open = load_open_decisions(txn);
    totals = read_decision_summary(txn, std::nullopt, std::nullopt);
  });
  service_actors a;
  a.recovered = open.size();
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
  a.metrics = spawn_metrics_actor(sys, registry, totals,
                                  config.policy.max_escalation_level);
  caf::anon_send(a.auditor, atoms::subscribe::value,
                 event_listener{a.metrics});
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
  if (a.recovered >= purge_threshold)
    return_freed_memory();
  spdlog::info("recovered {} open decisions in {:.3f} s", a.recovered,
               std::chrono::duration<double>(std::chrono::steady_clock::now()
                                             - started)
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
  stop(a.metrics);
  stop(a.reader);
  stop(a.auditor);
}

} // namespace hitl
