#include "cli/service_config.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

using namespace hitl;
using json = nlohmann::json;
using std::chrono::seconds;

namespace {

/// The message of the config_error that parsing `text` throws, or "".
std::string error_of(const std::string& text) {
  try {
    parse_service_config(json::parse(text));
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("an empty config gives the defaults") {
  auto cfg = parse_service_config(json::object());
  CHECK(cfg.policy.min_confidence == 0.95);
  CHECK(cfg.policy.sla_of(urgency::critical) == seconds{300});
  CHECK(cfg.policy.sla_of(urgency::high) == seconds{600});
  CHECK(cfg.policy.sla_of(urgency::medium) == seconds{900});
  CHECK_FALSE(cfg.policy.sla_of(urgency::low).has_value());
  CHECK_FALSE(cfg.policy.escalation_repeat.has_value());
  CHECK(cfg.policy.max_escalation_level == 3);
  CHECK(cfg.policy.approvals_for(urgency::critical) == 2);
  CHECK(cfg.policy.approvals_for(urgency::high) == 1);
  CHECK(cfg.webhooks.empty());
  CHECK(cfg.cors_origins.empty());
  CHECK(cfg.max_body_bytes == 1048576);
  CHECK(cfg.policy.version() == policy_config{}.version());
}

TEST_CASE("the full example of SPEC section 7 parses") {
  auto cfg = parse_service_config(json::parse(R"({
    "auto_approve": {"min_confidence": 0.9},
    "sla_seconds": {"critical": 1.5, "high": 600, "medium": 900,
                    "low": 3600},
    "escalation": {"repeat_seconds": 0.25, "max_level": 5},
    "approvals_required": {"critical": 3, "high": 2, "medium": 1, "low": 1},
    "webhooks": [
      {"url": "https://eureka.example/hook",
       "events": ["decision.escalated", "comment.added"], "secret": "s3"},
      {"url": "http://127.0.0.1:9000/all"}
    ],
    "cors_origins": ["http://localhost:5173"],
    "max_body_bytes": 2048
  })"));
  CHECK(cfg.policy.min_confidence == 0.9);
  CHECK(cfg.policy.sla_of(urgency::critical)
        == std::chrono::microseconds{1'500'000});
  CHECK(cfg.policy.sla_of(urgency::low) == seconds{3600});
  CHECK(cfg.policy.escalation_repeat == std::chrono::microseconds{250'000});
  CHECK(cfg.policy.max_escalation_level == 5);
  CHECK(cfg.policy.approvals_for(urgency::critical) == 3);
  CHECK(cfg.policy.approvals_for(urgency::high) == 2);
  REQUIRE(cfg.webhooks.size() == 2);
  CHECK(cfg.webhooks[0].url == "https://eureka.example/hook");
  CHECK(cfg.webhooks[0].events
        == std::vector<std::string>{"decision.escalated", "comment.added"});
  CHECK(cfg.webhooks[0].secret == "s3");
  CHECK(cfg.webhooks[1].events.size() == std::size(webhook_events));
  CHECK(cfg.webhooks[1].secret.empty());
  CHECK(cfg.cors_origins == std::vector<std::string>{"http://localhost:5173"});
  CHECK(cfg.max_body_bytes == 2048);
  CHECK(cfg.policy.version() != policy_config{}.version());
}

TEST_CASE("nulls mean no SLA and the priority's SLA again") {
  auto cfg = parse_service_config(json::parse(
    R"({"sla_seconds": {"high": null},
        "escalation": {"repeat_seconds": null}})"));
  CHECK_FALSE(cfg.policy.sla_of(urgency::high).has_value());
  CHECK(cfg.policy.sla_of(urgency::critical) == seconds{300});
  CHECK_FALSE(cfg.policy.escalation_repeat.has_value());
}

TEST_CASE("each kind of error names its key") {
  struct row {
    const char* text;
    const char* message;
  };
  const row rows[] = {
    {R"([])", "config: expected an object"},
    {R"({"sla": {}})", "sla: unknown key"},
    {R"({"sla_seconds": {"urgent": 1}})", "sla_seconds.urgent: unknown key"},
    {R"({"sla_seconds": {"critical": "300"}})",
     "sla_seconds.critical: expected a number or null"},
    {R"({"sla_seconds": {"high": 0}})", "sla_seconds.high: must be greater"},
    {R"({"sla_seconds": {"high": -5}})", "sla_seconds.high: must be greater"},
    {R"({"sla_seconds": 300})", "sla_seconds: expected an object"},
    {R"({"auto_approve": {"min_confidence": "high"}})",
     "auto_approve.min_confidence: expected a number"},
    {R"({"auto_approve": {"min_confidence": 1.5}})",
     "auto_approve.min_confidence: must be between 0 and 1"},
    {R"({"escalation": {"repeat_seconds": true}})",
     "escalation.repeat_seconds: expected a number or null"},
    {R"({"escalation": {"max_level": 2.5}})",
     "escalation.max_level: expected an integer"},
    {R"({"escalation": {"max_level": -1}})",
     "escalation.max_level: must be between 0 and 100"},
    {R"({"escalation": {"levels": 3}})", "escalation.levels: unknown key"},
    {R"({"approvals_required": {"critical": 0}})",
     "approvals_required.critical: must be between 1 and 100"},
    {R"({"webhooks": {}})", "webhooks: expected an array"},
    {R"({"webhooks": [{"events": ["decision.created"]}]})",
     "webhooks[0].url: required"},
    {R"({"webhooks": [{"url": "ftp://x"}]})",
     "webhooks[0].url: must start with http:// or https://"},
    {R"({"webhooks": [{"url": "http://x", "events": ["decision.created",
        "decision.deleted"]}]})",
     "webhooks[0].events[1]: unknown event \"decision.deleted\""},
    {R"({"webhooks": [{"url": "http://x", "events": []}]})",
     "webhooks[0].events: expected at least one event"},
    {R"({"webhooks": [{"url": "http://x", "secret": 42}]})",
     "webhooks[0].secret: expected a string"},
    {R"({"webhooks": [{"url": "http://x", "retries": 3}]})",
     "webhooks[0].retries: unknown key"},
    {R"({"cors_origins": ["http://a", 7]})",
     "cors_origins[1]: expected a string"},
    {R"({"max_body_bytes": 0})", "max_body_bytes: must be between 1 and"},
    {R"({"max_body_bytes": 18446744073709551615})",
     "max_body_bytes: must be between 1 and"},
  };
  for (const auto& r : rows) {
    CAPTURE(r.text);
    auto message = error_of(r.text);
    CHECK(message.rfind(r.message, 0) == 0);
  }
}

TEST_CASE("load_service_config reads a file and reports bad ones") {
  auto path = std::string{"/tmp/hitl_service_config_test.json"};
  {
    std::ofstream out{path};
    out << R"({"escalation": {"max_level": 7}})";
  }
  CHECK(load_service_config(path).policy.max_escalation_level == 7);
  {
    std::ofstream out{path};
    out << "{not json";
  }
  CHECK_THROWS_WITH_AS(load_service_config(path),
                       doctest::Contains("not valid JSON"), config_error);
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(load_service_config(path),
                       doctest::Contains("cannot open"), config_error);
}

TEST_CASE("notification delivery settings and the public URL") {
  auto cfg = parse_service_config(nlohmann::json::parse(R"({
    "notifications": {"max_attempts": 3, "timeout_seconds": 0.5,
                      "initial_backoff_seconds": 0.1, "max_backoff_seconds": 2},
    "public_url": "https://hitl.example.org/"})"));
  CHECK(cfg.notifications.max_attempts == 3);
  CHECK(cfg.notifications.timeout == std::chrono::milliseconds(500));
  CHECK(cfg.notifications.initial_backoff == std::chrono::milliseconds(100));
  CHECK(cfg.notifications.max_backoff == std::chrono::seconds(2));
  CHECK(cfg.public_url == "https://hitl.example.org");
  auto defaults = parse_service_config(nlohmann::json::object());
  CHECK(defaults.notifications.max_attempts == 8);
  CHECK(defaults.public_url.empty());
  auto fails_with = [](const char* text, const char* path) {
    try {
      parse_service_config(nlohmann::json::parse(text));
      return false;
    } catch (const config_error& e) {
      return std::string{e.what()}.rfind(path, 0) == 0;
    }
  };
  CHECK(fails_with(R"({"notifications": {"max_attempts": 0}})",
                   "notifications.max_attempts"));
  CHECK(fails_with(R"({"notifications": {"timeout_seconds": null}})",
                   "notifications.timeout_seconds"));
  CHECK(fails_with(R"({"notifications": {"retries": 3}})",
                   "notifications.retries"));
  CHECK(fails_with(R"({"public_url": "ftp://x"})", "public_url"));
}

TEST_CASE("limits: SPEC §10's defaults, each settable, typos and bad values "
          "refused") {
  auto d = parse_service_config(json::object()).limits;
  CHECK(d.max_connections == 10000);
  CHECK(d.max_request_line_bytes == 8192);
  CHECK(d.max_header_bytes == 8192);
  CHECK(d.max_headers_total_bytes == 65536);
  CHECK(d.max_header_count == 100);
  CHECK(d.header_timeout.count() == 10);
  CHECK(d.body_timeout.count() == 30);
  CHECK(d.max_ws_message_bytes == 65536);
  CHECK(d.max_ws_clients == 10000);
  CHECK(d.max_ws_clients_per_token == 20);
  CHECK(d.max_long_polls_per_token == 100);
  CHECK(d.max_concurrent_scans == 1);
  CHECK(d.scan_result_reuse.count() == 5);
  CHECK(d.max_auth_failures == 20);
  CHECK(d.auth_failure_window.count() == 10);

  auto l = parse_service_config(json::parse(R"({"limits": {
    "max_connections": 50, "max_header_count": 20,
    "header_timeout_seconds": 0.5, "max_ws_clients_per_token": 2,
    "scan_result_reuse_seconds": 1.5}})")).limits;
  CHECK(l.max_connections == 50);
  CHECK(l.max_header_count == 20);
  CHECK(l.header_timeout.count() == doctest::Approx(0.5));
  CHECK(l.max_ws_clients_per_token == 2);
  CHECK(l.scan_result_reuse.count() == doctest::Approx(1.5));
  CHECK(l.body_timeout.count() == 30); // untouched keys keep their default

  CHECK(error_of(R"({"limits": {"max_conections": 5}})")
        == "limits.max_conections: unknown key");
  CHECK(error_of(R"({"limits": {"max_connections": 0}})")
        == "limits.max_connections: must be between 1 and 1000000");
  CHECK(error_of(R"({"limits": {"body_timeout_seconds": "30"}})")
        == "limits.body_timeout_seconds: expected a number or null");
  CHECK(error_of(R"({"limits": {"header_timeout_seconds": null}})")
        == "limits.header_timeout_seconds: expected a number");
  CHECK(error_of(R"({"limits": []})") == "limits: expected an object");
}

TEST_CASE("audit: signed checkpoints are off by default, each key settable") {
  auto none = parse_service_config(json::object());
  CHECK(none.audit.signing_key.empty());
  CHECK(none.audit.checkpoint_interval == seconds(10));
  CHECK(none.audit.checkpoint_entries == 0);
  CHECK(none.audit.checkpoint_file.empty());

  auto cfg = parse_service_config(json::parse(R"({"audit": {
    "signing_key": "/etc/hitl/checkpoint.pem", "checkpoint_seconds": 1.5,
    "checkpoint_entries": 500, "checkpoint_file": "/var/log/hitl.ckpt"}})"));
  CHECK(cfg.audit.signing_key == "/etc/hitl/checkpoint.pem");
  CHECK(cfg.audit.checkpoint_interval == std::chrono::milliseconds(1500));
  CHECK(cfg.audit.checkpoint_entries == 500);
  CHECK(cfg.audit.checkpoint_file == "/var/log/hitl.ckpt");

  CHECK(error_of(R"({"audit": {"signing_ky": "k"}})")
          .rfind("audit.signing_ky: unknown key", 0)
        == 0);
  CHECK(error_of(R"({"audit": {"signing_key": 1}})")
          .rfind("audit.signing_key: expected a string", 0)
        == 0);
  CHECK(error_of(R"({"audit": {"signing_key": "k", "checkpoint_seconds": 0}})")
          .rfind("audit.checkpoint_seconds: must be greater", 0)
        == 0);
  CHECK(error_of(R"({"audit": {"signing_key": "k",
                               "checkpoint_seconds": 0.01}})")
          .rfind("audit.checkpoint_seconds: must be at least 0.1", 0)
        == 0);
  CHECK(error_of(R"({"audit": {"signing_key": "k",
                               "checkpoint_entries": 0}})")
          .rfind("audit.checkpoint_entries: must be between", 0)
        == 0);
  CHECK(error_of(R"({"audit": {"checkpoint_file": "/tmp/x"}})")
          .rfind("audit.signing_key: required", 0)
        == 0);
  CHECK(error_of(R"({"audit": []})").rfind("audit: expected an object", 0)
        == 0);
}

TEST_CASE("audit.checkpoint is a webhook event") {
  auto cfg = parse_service_config(json::parse(
    R"({"webhooks": [{"url": "http://x", "events": ["audit.checkpoint"]}]})"));
  CHECK(cfg.webhooks[0].wants("audit.checkpoint"));
}

TEST_CASE("cluster: the feed reads every 0.1 s unless told otherwise") {
  CHECK(parse_service_config(json::object()).feed_interval
        == std::chrono::milliseconds(100));
  auto cfg = parse_service_config(
    json::parse(R"({"cluster": {"feed_seconds": 0.5}})"));
  CHECK(cfg.feed_interval == std::chrono::milliseconds(500));
  CHECK(error_of(R"({"cluster": {"feed_second": 1}})")
          .rfind("cluster.feed_second: unknown key", 0)
        == 0);
  CHECK(error_of(R"({"cluster": {"feed_seconds": 0.001}})")
          .rfind("cluster.feed_seconds: must be between 0.01 and 60", 0)
        == 0);
  CHECK(error_of(R"({"cluster": {"feed_seconds": 61}})")
          .rfind("cluster.feed_seconds: must be between 0.01 and 60", 0)
        == 0);
  CHECK(error_of(R"({"cluster": {"feed_seconds": "fast"}})")
          .rfind("cluster.feed_seconds: expected", 0)
        == 0);
}
