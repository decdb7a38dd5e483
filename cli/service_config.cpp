#include "cli/service_config.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>

namespace hitl {

namespace {

using json = nlohmann::json;

// Keeps durations far from int64 overflow when multiplied by a level.
constexpr double max_setting_seconds = 1e9;
constexpr int64_t max_level = 100;
constexpr int64_t max_approvals = 100;
constexpr int64_t max_body_limit = int64_t{1} << 30;

[[noreturn]] void fail(const std::string& path, const std::string& what) {
  throw config_error(path + ": " + what);
}

std::string member(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string element(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

// Text from the file as a message shows it: a control character is
// written as its JSON escape, for a NUL would end what() there and cut the
// reason off. (The parser has checked that the text is UTF-8.)
std::string shown(const std::string& text) {
  bool plain = std::none_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20;
  });
  if (plain)
    return text;
  auto quoted = json(text).dump();
  return quoted.substr(1, quoted.size() - 2);
}

// An unknown key is probably a typo of a known one, so it is an error
// rather than something to skip.
void expect_object(const json& j, const std::string& path,
                   std::initializer_list<std::string_view> keys) {
  if (!j.is_object())
    fail(path.empty() ? "config" : path, "expected an object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end())
      fail(member(path, shown(it.key())), "unknown key");
}

int64_t read_integer(const json& j, const std::string& path, int64_t lo,
                     int64_t hi) {
  if (!j.is_number_integer())
    fail(path, "expected an integer");
  // Non-negative literals parse as unsigned; anything past int64 is out of
  // every range we accept.
  constexpr auto int64_max = std::numeric_limits<int64_t>::max();
  bool huge = j.is_number_unsigned()
              && j.get<uint64_t>() > static_cast<uint64_t>(int64_max);
  if (huge || j.get<int64_t>() < lo || j.get<int64_t>() > hi)
    fail(path, "must be between " + std::to_string(lo) + " and "
                 + std::to_string(hi));
  return j.get<int64_t>();
}

// Null means "none" for every duration of the config.
std::optional<duration> read_seconds(const json& j, const std::string& path) {
  if (j.is_null())
    return std::nullopt;
  if (!j.is_number())
    fail(path, "expected a number or null");
  double s = j.get<double>();
  if (!(s > 0) || s > max_setting_seconds)
    fail(path, "must be greater than 0 and at most 1e9 seconds");
  auto d = from_seconds(s);
  if (d.count() <= 0)
    fail(path, "must be at least 0.000001 seconds");
  return d;
}

std::string read_string(const json& j, const std::string& path) {
  if (!j.is_string())
    fail(path, "expected a string");
  return j.get<std::string>();
}

const json& read_array(const json& j, const std::string& path) {
  if (!j.is_array())
    fail(path, "expected an array");
  return j;
}

void read_per_urgency(const json& j, const std::string& path,
                      const std::function<void(urgency, const json&,
                                               const std::string&)>& read) {
  expect_object(j, path, {"low", "medium", "high", "critical"});
  for (auto it = j.begin(); it != j.end(); ++it)
    read(*parse_urgency(it.key()), it.value(), member(path, it.key()));
}

std::vector<std::string> read_events(const json& j, const std::string& path) {
  std::vector<std::string> events;
  const auto& arr = read_array(j, path);
  if (arr.empty())
    fail(path, "expected at least one event");
  for (size_t i = 0; i < arr.size(); ++i) {
    auto name = read_string(arr[i], element(path, i));
    auto known = std::find(std::begin(webhook_events),
                           std::end(webhook_events), name);
    if (known == std::end(webhook_events))
      fail(element(path, i), "unknown event \"" + shown(name) + "\"");
    events.push_back(std::move(name));
  }
  return events;
}

webhook_subscription read_webhook(const json& j, const std::string& path) {
  expect_object(j, path, {"url", "events", "secret"});
  webhook_subscription sub;
  if (!j.contains("url"))
    fail(member(path, "url"), "required");
  sub.url = read_string(j["url"], member(path, "url"));
  if (sub.url.rfind("http://", 0) != 0 && sub.url.rfind("https://", 0) != 0)
    fail(member(path, "url"), "must start with http:// or https://");
  if (j.contains("events"))
    sub.events = read_events(j["events"], member(path, "events"));
  else
    sub.events.assign(std::begin(webhook_events), std::end(webhook_events));
  if (j.contains("secret"))
    sub.secret = read_string(j["secret"], member(path, "secret"));
  return sub;
}

void read_policy(const json& doc, policy_config& cfg) {
  if (doc.contains("auto_approve")) {
    const auto& aa = doc["auto_approve"];
    expect_object(aa, "auto_approve", {"min_confidence"});
    if (aa.contains("min_confidence")) {
      const auto& v = aa["min_confidence"];
      if (!v.is_number())
        fail("auto_approve.min_confidence", "expected a number");
      if (!(v.get<double>() >= 0 && v.get<double>() <= 1))
        fail("auto_approve.min_confidence", "must be between 0 and 1");
      cfg.min_confidence = v.get<double>();
    }
  }
  if (doc.contains("sla_seconds"))
    read_per_urgency(doc["sla_seconds"], "sla_seconds",
                     [&](urgency u, const json& v, const std::string& path) {
                       cfg.sla[static_cast<size_t>(u)] = read_seconds(v, path);
                     });
  if (doc.contains("escalation")) {
    const auto& esc = doc["escalation"];
    expect_object(esc, "escalation", {"repeat_seconds", "max_level"});
    if (esc.contains("repeat_seconds"))
      cfg.escalation_repeat = read_seconds(esc["repeat_seconds"],
                                           "escalation.repeat_seconds");
    if (esc.contains("max_level"))
      cfg.max_escalation_level = static_cast<int>(
        read_integer(esc["max_level"], "escalation.max_level", 0, max_level));
  }
  if (doc.contains("approvals_required"))
    read_per_urgency(doc["approvals_required"], "approvals_required",
                     [&](urgency u, const json& v, const std::string& path) {
                       cfg.approvals_required[static_cast<size_t>(u)]
                         = static_cast<int>(
                           read_integer(v, path, 1, max_approvals));
                     });
}

void read_limits(const json& j, edge_limits& l) {
  expect_object(j, "limits",
                {"max_connections", "max_request_line_bytes",
                 "max_header_bytes", "max_headers_total_bytes",
                 "max_header_count", "header_timeout_seconds",
                 "body_timeout_seconds", "max_ws_message_bytes",
                 "max_ws_clients", "max_ws_clients_per_token",
                 "max_long_polls_per_token", "max_concurrent_scans",
                 "scan_result_reuse_seconds", "max_auth_failures",
                 "auth_failure_window_seconds"});
  auto count = [&](const char* key, size_t& out, int64_t lo, int64_t hi) {
    if (j.contains(key))
      out = static_cast<size_t>(read_integer(j[key], member("limits", key),
                                             lo, hi));
  };
  auto seconds = [&](const char* key, edge_limits::seconds& out) {
    if (!j.contains(key))
      return;
    auto path = member("limits", key);
    auto v = read_seconds(j[key], path);
    if (!v)
      fail(path, "expected a number");
    out = std::chrono::duration_cast<edge_limits::seconds>(*v);
  };
  constexpr int64_t kib = 1024;
  count("max_connections", l.max_connections, 1, 1000000);
  count("max_request_line_bytes", l.max_request_line_bytes, 256, 1024 * kib);
  count("max_header_bytes", l.max_header_bytes, 256, 1024 * kib);
  count("max_headers_total_bytes", l.max_headers_total_bytes, 1024,
        16 * 1024 * kib);
  count("max_header_count", l.max_header_count, 8, 10000);
  seconds("header_timeout_seconds", l.header_timeout);
  seconds("body_timeout_seconds", l.body_timeout);
  count("max_ws_message_bytes", l.max_ws_message_bytes, 126, 64 * 1024 * kib);
  count("max_ws_clients", l.max_ws_clients, 0, 1000000);
  count("max_ws_clients_per_token", l.max_ws_clients_per_token, 0, 1000000);
  count("max_long_polls_per_token", l.max_long_polls_per_token, 0, 1000000);
  count("max_concurrent_scans", l.max_concurrent_scans, 1, 64);
  seconds("scan_result_reuse_seconds", l.scan_result_reuse);
  count("max_auth_failures", l.max_auth_failures, 1, 1000000);
  seconds("auth_failure_window_seconds", l.auth_failure_window);
}

void read_cluster(const json& j, service_settings& s) {
  expect_object(j, "cluster", {"feed_seconds"});
  if (j.contains("feed_seconds")) {
    auto v = read_seconds(j["feed_seconds"], "cluster.feed_seconds");
    if (!v)
      fail("cluster.feed_seconds", "expected a number");
    if (*v < std::chrono::milliseconds(10) || *v > std::chrono::seconds(60))
      fail("cluster.feed_seconds", "must be between 0.01 and 60 seconds");
    s.feed_interval = *v;
  }
}

void read_audit(const json& j, audit_settings& a) {
  expect_object(j, "audit",
                {"signing_key", "checkpoint_seconds", "checkpoint_entries",
                 "checkpoint_file"});
  auto path_of = [&](const char* key, std::string& out) {
    if (!j.contains(key))
      return;
    out = read_string(j[key], member("audit", key));
    if (out.empty())
      fail(member("audit", key), "expected a file path");
  };
  path_of("signing_key", a.signing_key);
  path_of("checkpoint_file", a.checkpoint_file);
  if (j.contains("checkpoint_seconds")) {
    auto v = read_seconds(j["checkpoint_seconds"], "audit.checkpoint_seconds");
    if (!v)
      fail("audit.checkpoint_seconds", "expected a number");
    if (*v < std::chrono::milliseconds(100))
      fail("audit.checkpoint_seconds", "must be at least 0.1 seconds");
    a.checkpoint_interval = *v;
  }
  if (j.contains("checkpoint_entries"))
    a.checkpoint_entries = read_integer(
      j["checkpoint_entries"], "audit.checkpoint_entries", 1, 1000000000);
  if (a.signing_key.empty()
      && (j.contains("checkpoint_file") || j.contains("checkpoint_entries")
          || j.contains("checkpoint_seconds")))
    fail("audit.signing_key", "required to sign checkpoints");
}

} // namespace

service_config parse_service_config(const json& doc) {
  expect_object(doc, "",
                {"auto_approve", "sla_seconds", "escalation",
                 "approvals_required", "webhooks", "cors_origins",
                 "max_body_bytes", "notifications", "public_url", "limits",
                 "audit", "cluster"});
  service_config cfg;
  read_policy(doc, cfg.policy);
  if (doc.contains("notifications")) {
    const auto& n = doc["notifications"];
    expect_object(n, "notifications",
                  {"max_attempts", "timeout_seconds", "initial_backoff_seconds",
                   "max_backoff_seconds"});
    auto& d = cfg.notifications;
    if (n.contains("max_attempts"))
      d.max_attempts = static_cast<int>(read_integer(
        n["max_attempts"], "notifications.max_attempts", 1, 1000));
    auto seconds = [&](const char* key, duration& out) {
      if (!n.contains(key))
        return;
      auto path = member("notifications", key);
      auto v = read_seconds(n[key], path);
      if (!v)
        fail(path, "expected a number");
      out = *v;
    };
    seconds("timeout_seconds", d.timeout);
    seconds("initial_backoff_seconds", d.initial_backoff);
    seconds("max_backoff_seconds", d.max_backoff);
  }
  if (doc.contains("public_url")) {
    cfg.public_url = read_string(doc["public_url"], "public_url");
    if (cfg.public_url.rfind("http://", 0) != 0
        && cfg.public_url.rfind("https://", 0) != 0)
      fail("public_url", "must start with http:// or https://");
    while (!cfg.public_url.empty() && cfg.public_url.back() == '/')
      cfg.public_url.pop_back();
  }
  if (doc.contains("webhooks")) {
    const auto& hooks = read_array(doc["webhooks"], "webhooks");
    for (size_t i = 0; i < hooks.size(); ++i)
      cfg.webhooks.push_back(read_webhook(hooks[i], element("webhooks", i)));
  }
  if (doc.contains("cors_origins")) {
    const auto& origins = read_array(doc["cors_origins"], "cors_origins");
    for (size_t i = 0; i < origins.size(); ++i)
      cfg.cors_origins.push_back(
        read_string(origins[i], element("cors_origins", i)));
  }
  if (doc.contains("max_body_bytes"))
    cfg.max_body_bytes = static_cast<size_t>(
      read_integer(doc["max_body_bytes"], "max_body_bytes", 1, max_body_limit));
  if (doc.contains("limits"))
    read_limits(doc["limits"], cfg.limits);
  if (doc.contains("audit"))
    read_audit(doc["audit"], cfg.audit);
  if (doc.contains("cluster"))
    read_cluster(doc["cluster"], cfg);
  return cfg;
}

service_config load_service_config(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw config_error(path + ": cannot open the config file");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::exception& e) {
    // Not only parse_error: a number beyond a double (1e400) is
    // out_of_range.406.
    throw config_error(path + ": not valid JSON: " + e.what());
  }
  return parse_service_config(doc);
}

} // namespace hitl
