#include "http/query_strings.hpp"

#include "http/client_text.hpp"
#include "http/json_reader.hpp"
#include "policy/utf8.hpp"

#include <charconv>
#include <map>
#include <set>

namespace hitl {

namespace {

// Caller text echoed in a field name is cut to this many chars.
constexpr size_t max_echoed_chars = 64;

// The longest query value any endpoint reads is a cursor of 512 characters.
constexpr size_t max_query_value_bytes = 2048;

} // namespace

namespace {

/// The parameters of one query string, checked up front for repeats and
/// names the endpoint does not know.
class query_reader {
public:
  query_reader(const query_params& q,
               std::initializer_list<std::string_view> known,
               error_list& errors)
    : errors_(errors) {
    std::set<std::string> reported;
    for (const auto& [key, value] : q) {
      bool is_known = false;
      for (auto k : known)
        is_known = is_known || k == key;
      if (!is_known) {
        if (reported.insert(key).second)
          errors_.add(echoable_text(key, max_echoed_chars),
                      "unknown parameter");
      } else if (!values_.emplace(key, value).second) {
        if (reported.insert(key).second)
          errors_.add(key, "is given more than once");
      } else if (value.size() > max_query_value_bytes) {
        errors_.add(key, "is longer than "
                           + std::to_string(max_query_value_bytes) + " bytes");
        refused_.insert(key);
      } else if (!plain_text(value)) {
        errors_.add(key, "must be valid UTF-8 without control characters");
        refused_.insert(key);
      }
    }
  }

  /// The value, or nullopt when absent; an empty value is an error, since
  /// leaving the parameter out is how to ask for the default.
  std::optional<std::string_view> get(const std::string& name) {
    auto i = values_.find(name);
    if (i == values_.end() || refused_.count(name) > 0)
      return std::nullopt;
    if (i->second.empty()) {
      errors_.add(name, "is empty; leave the parameter out for the default");
      return std::nullopt;
    }
    return std::string_view{i->second};
  }

  error_list& errors() {
    return errors_;
  }

private:
  error_list& errors_;
  std::map<std::string, std::string> values_;
  std::set<std::string> refused_; // reported already
};

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return n;
}

std::optional<int> int_param(query_reader& q, const std::string& name,
                             int lo, int hi) {
  auto s = q.get(name);
  if (!s)
    return std::nullopt;
  auto n = parse_int(*s);
  if (!n || *n < lo || *n > hi) {
    q.errors().add(name, "must be an integer between " + std::to_string(lo)
                           + " and " + std::to_string(hi));
    return std::nullopt;
  }
  return static_cast<int>(*n);
}

std::optional<std::string> text_param(query_reader& q, const std::string& name,
                                      size_t max_chars) {
  auto s = q.get(name);
  if (!s)
    return std::nullopt;
  if (!q.errors().check_text(name, *s, max_chars))
    return std::nullopt;
  return std::string{*s};
}

std::optional<urgency> urgency_param(query_reader& q,
                                     const std::string& name) {
  auto s = q.get(name);
  if (!s)
    return std::nullopt;
  auto u = parse_urgency(*s);
  if (!u)
    q.errors().add(name, strict_json::urgency_message);
  return u;
}

std::optional<timestamp> time_param(query_reader& q, const std::string& name) {
  auto s = q.get(name);
  if (!s)
    return std::nullopt;
  auto t = parse_iso(*s);
  if (!t)
    q.errors().add(name, "must be an RFC 3339 timestamp such as "
                         "2026-01-31T12:00:00Z (a '+' offset is written %2B)");
  return t;
}

// Both or either bound of a time range, in order.
void read_range(query_reader& q, std::optional<timestamp>& since,
                std::optional<timestamp>& until) {
  since = time_param(q, "since");
  until = time_param(q, "until");
  if (since && until && *since > *until)
    q.errors().add("since", "is after until");
}

} // namespace

parsed<pending_query> parse_pending_query(const query_params& params) {
  error_list errors;
  query_reader q{params,
                 {"limit", "cursor", "priority", "severity", "sort"},
                 errors};
  pending_query out;
  out.limit = int_param(q, "limit", 1, 100).value_or(out.limit);
  out.cursor = text_param(q, "cursor", 512);
  out.priority = urgency_param(q, "priority");
  out.severity = urgency_param(q, "severity");
  if (auto s = q.get("sort")) {
    if (*s == "priority")
      out.sort = pending_sort::priority;
    else if (*s == "age")
      out.sort = pending_sort::age;
    else if (*s == "deadline")
      out.sort = pending_sort::deadline;
    else
      errors.add("sort", "must be one of priority, age, deadline");
  }
  if (!errors.empty())
    return std::move(errors).to_error(400, "query string");
  return out;
}

parsed<audit_query> parse_audit_query(const query_params& params) {
  error_list errors;
  query_reader q{params,
                 {"decision_id", "action", "performed_by", "since", "until",
                  "limit", "cursor"},
                 errors};
  audit_query out;
  if (auto id = q.get("decision_id")) {
    if (valid_decision_id(*id))
      out.decision_id = std::string{*id};
    else
      errors.add("decision_id", "must be 1 to 255 characters of A-Z, a-z, "
                                "0-9, '.', '_', ':' and '-'");
  }
  if (auto a = q.get("action")) {
    out.action = parse_audit_action(*a);
    if (!out.action)
      errors.add("action", "must be one of created, auto_approved, "
                           "approval_added, approved, rejected, commented, "
                           "escalated, cancelled");
  }
  out.performed_by = text_param(q, "performed_by", 255);
  read_range(q, out.since, out.until);
  out.limit = int_param(q, "limit", 1, 1000).value_or(out.limit);
  if (auto c = q.get("cursor")) {
    auto n = parse_int(*c);
    if (n && *n >= 0)
      out.after_seq = n;
    else
      errors.add("cursor", "must be the next_cursor of a previous page (a "
                           "non-negative integer)");
  }
  if (!errors.empty())
    return std::move(errors).to_error(400, "query string");
  return out;
}

parsed<summary_query> parse_summary_query(const query_params& params) {
  error_list errors;
  query_reader q{params, {"since", "until"}, errors};
  summary_query out;
  read_range(q, out.since, out.until);
  if (!errors.empty())
    return std::move(errors).to_error(400, "query string");
  return out;
}

parsed<export_query> parse_export_query(const query_params& params) {
  error_list errors;
  query_reader q{params, {"since", "until", "format"}, errors};
  export_query out;
  read_range(q, out.since, out.until);
  if (auto f = q.get("format")) {
    if (*f == "csv")
      out.csv = true;
    else if (*f != "jsonl")
      errors.add("format", "must be jsonl or csv");
  }
  if (!errors.empty())
    return std::move(errors).to_error(400, "query string");
  return out;
}

parsed<int> parse_wait_query(const query_params& params) {
  error_list errors;
  query_reader q{params, {"wait"}, errors};
  int wait = int_param(q, "wait", 0, 60).value_or(0);
  if (!errors.empty())
    return std::move(errors).to_error(400, "query string");
  return wait;
}

} // namespace hitl
