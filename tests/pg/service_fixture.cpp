#include "tests/pg/service_fixture.hpp"

#include "actors/atoms.hpp"
#include "tests/pg/actor_shutdown.hpp"
#include "tests/pg/pg_fixture.hpp"

#include <pqxx/pqxx>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace hitl::test {

running_service::running_service(const std::string& url,
                                 const service_config& config) {
  pool_options o;
  // As serve runs: with the runtime role's grants only.
  o.url = runtime_url(url);
  o.min_size = 2;
  o.max_size = 8;
  pool_ = std::make_unique<connection_pool>(o);
  cfg_ = std::make_unique<caf::actor_system_config>();
  cfg_->set("scheduler.max-threads", 2);
  cfg_->set("logger.verbosity", caf::atom("quiet"));
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
  registry_ = std::make_shared<prometheus::Registry>();
  actors_ = start_service(*sys_, *pool_, config, registry_);
}

running_service::~running_service() {
  stop();
}

void running_service::stop() {
  if (!sys_)
    return;
  stop_service(*sys_, actors_);
  // Also when a failed REQUIRE unwinds: every actor is stopped within the
  // ceiling, or the run ends saying so, instead of hanging in ~actor_system.
  await_actors_stopped(*sys_);
  sys_.reset();
  cfg_.reset();
  pool_.reset();
}

std::string running_service::metrics_text() const {
  return prometheus::TextSerializer{}.Serialize(registry_->Collect());
}

caf::expected<create_result>
running_service::create(const new_decision& nd, const std::string& who) {
  caf::scoped_actor self{*sys_};
  caf::expected<create_result> out{caf::error{}};
  auto req = make_create_request(
    nd, caller{who, role::service, std::string{"127.0.0.1"},
               std::string{"test"}, std::nullopt});
  self->request(actors_.supervisor, std::chrono::seconds(20),
                atoms::create::value, req)
    .receive([&](create_result& r) { out = std::move(r); },
             [&](caf::error& e) { out = std::move(e); });
  return out;
}

auditor_stats running_service::auditor_stats_now() {
  caf::scoped_actor self{*sys_};
  auditor_stats out;
  self->request(actors_.auditor, std::chrono::seconds(10), atoms::stats::value)
    .receive([&](auditor_stats& s) { out = s; }, [](caf::error&) {});
  return out;
}

new_decision sample_decision(const std::string& patch_id, urgency severity,
                             bool auto_approvable) {
  new_decision nd;
  nd.patch_id = patch_id;
  nd.metadata.apv_id = "apv-" + patch_id;
  nd.metadata.cve_id = "CVE-2026-1234";
  nd.metadata.package_name = "libfoo";
  nd.metadata.current_version = "1.2.3";
  nd.metadata.target_version = "1.2.4";
  nd.metadata.severity = severity;
  nd.metadata.cvss_score = 7.5;
  ml_prediction ml;
  ml.model_version = "m-3";
  ml.confidence = auto_approvable ? 0.99 : 0.80;
  ml.prediction = true;
  ml.shap_values = {{"diff_size", 0.1}};
  nd.ml = ml;
  nd.wargaming = wargaming_result{true, true, true, 1200.0, std::nullopt,
                                  std::string{"EXP-9"}};
  return nd;
}

verdict_request verdict(const std::string& patch_id, const std::string& who,
                        role r) {
  verdict_request v;
  v.patch_id = patch_id;
  v.caller = caller{who, r, std::string{"10.0.0.7"}, std::string{"test"},
                    std::nullopt};
  return v;
}

std::vector<audit_row> audit_of(const std::string& url,
                                const std::string& decision_id) {
  pqxx::connection conn{url};
  pqxx::nontransaction q{conn};
  std::vector<audit_row> out;
  for (const auto& r :
       q.exec_params("SELECT seq, action, performed_by, details::text"
                     " FROM hitl_audit_logs WHERE decision_id = $1"
                     " ORDER BY seq",
                     decision_id))
    out.push_back({r[0].as<int64_t>(), r[1].as<std::string>(),
                   r[2].as<std::string>(), r[3].as<std::string>()});
  return out;
}

std::vector<escalation_entry> escalations_of(const std::string& url,
                                             const std::string& decision_id) {
  pqxx::connection conn{url};
  pqxx::nontransaction q{conn};
  std::vector<escalation_entry> out;
  for (const auto& row :
       q.exec_params("SELECT (details->>'level')::int,"
                     " hitl_micros(\"timestamp\") FROM hitl_audit_logs"
                     " WHERE decision_id = $1 AND action = 'escalated'"
                     " ORDER BY seq",
                     decision_id))
    out.push_back({row[0].as<int>(), from_micros(row[1].as<int64_t>())});
  return out;
}

void insert_open_decisions(const std::string& url, const std::string& prefix,
                           int n) {
  sql_exec(url,
           "INSERT INTO hitl_decisions (decision_id, patch_id, apv_id, cve_id,"
           " package_name, current_version, target_version, severity,"
           " cvss_score, ml_confidence, ml_prediction, ml_model_version,"
           " wargaming_phase1, wargaming_phase2, wargaming_passed, priority,"
           " policy_version, content_hash, created_by, created_at, updated_at,"
           " sla_deadline) SELECT '"
             + prefix + "' || g, 'p-" + prefix + "' || g, 'apv-' || g,"
           " 'CVE-2026-' || g, 'openssl', '3.0.1', '3.0.2', 'medium', 5.0,"
           " 0.5, true, 'xgb-7', true, true, true, 'medium', '1.test',"
           " repeat('a', 64), 'test', now(), now(), now() + interval '1 day'"
           " FROM generate_series(1, "
             + std::to_string(n) + ") g");
}

} // namespace hitl::test
