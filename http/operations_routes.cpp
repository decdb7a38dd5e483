// What operators and tools read without a token: GET /health, /metrics,
// /openapi.json and /hitl/audit/public-key.

#include "actors/atoms.hpp"
#include "actors/health_check.hpp"
#include "http/actor_requests.hpp"
#include "http/routes.hpp"

#include <caf/error.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace hitl {

const char* openapi_document(); // generated from http/openapi.json

namespace routes {

namespace {

/// Longer than a round of health checks (3 s at most): a request waits at
/// most for the round under way.
constexpr auto health_timeout = std::chrono::seconds(10);

} // namespace

void health(const exchange_ptr& ex, route_call&) {
  // Through a bridge to the health actor, as requests go: a bridge that
  // does not run, a supervisor or an auditor that does not answer shows
  // here, not only a database that is away. The actor shares one round of
  // checks among all requests of a second.
  auto reply = [ex](const health_report& h) {
    auto check = [](bool up) { return up ? "up" : "down"; };
    nlohmann::json body{{"status", h.ok() ? "ok" : "unavailable"},
                        {"checks",
                         {{"database",
                           {{"status", check(h.database)},
                            {"latency_ms", h.database_ms}}},
                          {"supervisor", {{"status", check(h.supervisor)}}},
                          {"auditor", {{"status", check(h.auditor)}}}}}};
    if (!h.node_id.empty())
      body["node"] = {{"id", h.node_id},
                      {"lease", h.lease_running ? "running" : "lapsed"},
                      {"partitions", h.partitions}};
    ex->json_reply(h.ok() ? 200 : 503, body);
  };
  ask_or(ex, ex->context().health, health_timeout,
         [reply](health_report& h) { reply(h); },
         // The checks did not come back: nothing is known to work.
         [reply](caf::error&) { reply(health_report{}); },
         atoms::health::value);
}

void metrics(const exchange_ptr& ex, route_call&) {
  auto text = prometheus::TextSerializer{}.Serialize(
    ex->context().backend.registry->Collect());
  ex->respond(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
}

void openapi(const exchange_ptr& ex, route_call&) {
  ex->respond(200, openapi_document());
}

void public_key(const exchange_ptr& ex, route_call&) {
  const auto& pem = ex->context().backend.audit_public_key_pem;
  if (pem.empty()) {
    ex->problem_reply(404, "no audit signing key is configured "
                           "(audit.signing_key)");
    return;
  }
  ex->respond(200, pem, "application/x-pem-file");
}

} // namespace routes

} // namespace hitl
