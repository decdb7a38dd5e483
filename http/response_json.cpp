#include "http/response_json.hpp"

#include "http/json_null.hpp"
#include "http/request_error.hpp"
#include "policy/decision_json.hpp"
#include "policy/escalation_schedule.hpp"
#include "policy/json_text.hpp"

#include <nlohmann/json.hpp>

namespace hitl {

namespace {

using json = nlohmann::json;

const char* title_of(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    // Refused by the transport (http/transport_limits.hpp).
    case 408:
      return "Request Timeout";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return "Internal Server Error";
  }
}

const char* sort_tag(pending_sort s) {
  switch (s) {
    case pending_sort::priority:
      return "p";
    case pending_sort::age:
      return "a";
    case pending_sort::deadline:
      return "d";
  }
  return "p";
}

// JSON text the database holds (jsonb, so well-formed). Should it not be,
// the text itself is shown rather than throwing on a bridge.
json stored_json(const std::string& text) {
  auto doc = json::parse(text, nullptr, false);
  return doc.is_discarded() ? json(text) : doc;
}

} // namespace

json problem(int status, const std::string& detail,
             const std::vector<field_error>& errors) {
  json body{{"type", "about:blank"},
            {"title", title_of(status)},
            {"status", status},
            {"detail", detail}};
  if (!errors.empty()) {
    json list = json::array();
    for (const auto& e : errors)
      list.push_back({{"field", e.field}, {"message", e.message}});
    body["errors"] = std::move(list);
  }
  return body;
}

std::string json_body(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string problem_body(int status, const std::string& detail,
                         const std::vector<field_error>& errors) {
  return json_body(problem(status, detail, errors));
}

rendered_pending render_pending(const pending_page& page, pending_sort sort) {
  rendered_pending out;
  out.items.reserve(page.items.size());
  for (const auto& d : page.items) {
    // Everything but age_seconds and sla_status, which are spliced in at
    // each response (see pending_body).
    json fixed{
      {"decision_id", d.decision_id},
      {"patch_id", d.patch_id},
      {"apv_id", d.apv_id},
      {"cve_id", or_null(d.cve_id)},
      {"package_name", d.package_name},
      {"severity", to_string(d.severity)},
      {"priority", to_string(d.priority)},
      {"decision", to_string(d.status)},
      {"ml_confidence", or_null(d.ml_confidence)},
      {"ml_prediction", or_null(d.ml_prediction)},
      {"wargaming_passed", or_null(d.wargaming_passed)},
      {"created_at", format_iso(d.created_at)},
      {"sla_deadline",
       d.sla_deadline ? json(format_iso(*d.sla_deadline)) : json(nullptr)},
      {"escalation_level", d.escalation_level},
      {"approvals_required", d.approvals_required}};
    out.items.push_back({json_body(fixed), d.created_at, d.sla_deadline});
  }
  out.total = page.total;
  out.next_cursor =
    page.next ? json_body(json(encode_cursor(*page.next, sort))) : "null";
  return out;
}

std::string pending_body(const rendered_pending& page, timestamp at) {
  std::string body;
  size_t size = 64;
  for (const auto& item : page.items)
    size += item.fixed.size() + 48;
  body.reserve(size);
  body += "{\"items\":[";
  for (size_t i = 0; i < page.items.size(); ++i) {
    const auto& item = page.items[i];
    auto age =
      std::chrono::duration_cast<std::chrono::seconds>(at - item.created_at);
    if (i > 0)
      body += ',';
    body += "{\"age_seconds\":";
    body += std::to_string(std::max<int64_t>(0, age.count()));
    body += ",\"sla_status\":\"";
    body += to_string(sla_status_at(item.created_at, item.sla_deadline, at));
    body += "\",";
    body.append(item.fixed, 1, std::string::npos); // without its '{'
  }
  body += "],\"next_cursor\":";
  body += page.next_cursor;
  body += ",\"total\":";
  body += std::to_string(page.total);
  body += '}';
  return body;
}

std::string decision_view_body(const decision_record& rec,
                               const std::vector<comment>& comments,
                               const std::string& audit_trail_json) {
  auto body = record_json(rec);
  body.pop_back(); // the record's closing brace: more members follow
  json_text w{body, json_text::invalid_utf8::replace};
  w.key("comments").begin_array();
  for (const auto& c : comments)
    w.raw(json_body(to_json(c)));
  w.end_array();
  // Every role may read a decision, and with it what happened to it; the
  // whole chain, with addresses and agents, stays the auditors'. Parsed and
  // written again: compact, whatever spacing PostgreSQL gave it.
  w.key("audit_trail").raw(json_body(stored_json(audit_trail_json)));
  w.end_object();
  return body;
}

json summary_json(const decision_summary& s) {
  return {{"total_patches", s.total},
          {"pending", s.pending},
          {"escalated", s.escalated},
          {"approved", s.approved},
          {"rejected", s.rejected},
          {"auto_approved", s.auto_approved},
          {"cancelled", s.cancelled},
          {"avg_decision_time_seconds", or_null(s.avg_decision_time_seconds)},
          {"ml_accuracy",
           s.ml_judged > 0 ? json(static_cast<double>(s.ml_agreed)
                                  / static_cast<double>(s.ml_judged))
                           : json(nullptr)},
          {"auto_approval_rate",
           s.total > 0 ? json(static_cast<double>(s.auto_approved)
                              / static_cast<double>(s.total))
                       : json(nullptr)},
          {"time_to_decision_seconds",
           {{"p50", or_null(s.p50_decision_seconds)},
            {"p90", or_null(s.p90_decision_seconds)}}},
          {"sla_breaches", s.sla_breaches}};
}

json audit_page_json(const std::vector<audit_entry>& entries, int limit) {
  json items = json::array();
  size_t n = std::min(entries.size(), static_cast<size_t>(limit));
  for (size_t i = 0; i < n; ++i) {
    const auto& e = entries[i];
    items.push_back({{"seq", e.seq},
                     {"decision_id", e.decision_id.empty()
                                       ? json(nullptr) // a token's entry
                                       : json(e.decision_id)},
                     {"action", to_string(e.action)},
                     {"performed_by", e.performed_by},
                     {"timestamp", format_iso(e.at)},
                     {"details", stored_json(e.details_json)},
                     {"ip_address", or_null(e.ip_address)},
                     {"user_agent", or_null(e.user_agent)},
                     {"prev_hash", e.prev_hash},
                     {"hash", e.hash},
                     {"partition", e.link ? json(e.link->partition.value)
                                          : json(nullptr)},
                     {"pseq", e.link ? json(e.link->pseq) : json(nullptr)},
                     {"epoch", e.link ? json(e.link->epoch) : json(nullptr)}});
  }
  json next = entries.size() > n ? json(std::to_string(entries[n - 1].seq))
                                 : json(nullptr);
  return {{"items", std::move(items)}, {"next_cursor", next}};
}

std::string encode_cursor(const pending_cursor& c, pending_sort sort) {
  // Readable on purpose: a cursor is opaque to clients, not secret.
  return std::string{sort_tag(sort)} + "." + std::to_string(c.key1) + "."
         + std::to_string(c.key2) + "." + c.decision_id;
}

std::optional<pending_cursor> decode_cursor(const std::string& text,
                                            pending_sort sort) {
  auto p1 = text.find('.');
  auto p2 = text.find('.', p1 == std::string::npos ? p1 : p1 + 1);
  auto p3 = text.find('.', p2 == std::string::npos ? p2 : p2 + 1);
  if (p3 == std::string::npos || text.substr(0, p1) != sort_tag(sort))
    return std::nullopt;
  try {
    size_t used1 = 0, used2 = 0;
    auto k1s = text.substr(p1 + 1, p2 - p1 - 1);
    auto k2s = text.substr(p2 + 1, p3 - p2 - 1);
    pending_cursor c{std::stoll(k1s, &used1), std::stoll(k2s, &used2),
                     text.substr(p3 + 1)};
    if (used1 != k1s.size() || used2 != k2s.size()
        || !valid_decision_id(c.decision_id))
      return std::nullopt;
    return c;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

} // namespace hitl
