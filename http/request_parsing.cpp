#include "http/request_parsing.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <set>

namespace hitl {

namespace {

using json = nlohmann::json;

// A body of 1 MiB could name thousands of unknown fields; nobody reads more
// than this many, and the response stays small.
constexpr size_t max_listed_errors = 100;

// Caller text echoed in a field name or detail is cut to this many chars.
constexpr size_t max_echoed_chars = 64;

constexpr size_t max_text_chars = 10000;

// The longest query value any endpoint reads is a cursor of 512 characters.
constexpr size_t max_query_value_bytes = 2048;

// Ids: 255 characters, as the columns hold them.
constexpr size_t max_id_chars = 255;

// -- text ---------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence at s[i], or 0 when there is none
// (overlong forms, surrogates and code points above U+10FFFF are not); its
// code point goes to `cp`. The one UTF-8 validator of the edge.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    cp = c;
    return 1;
  }
  size_t n;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1Fu, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (cc & 0x3Fu);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

// C0, DEL and C1: nothing a person types into an id or a query.
bool is_control(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

// Valid UTF-8 without control characters.
bool plain_text(std::string_view s) {
  uint32_t cp;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_sequence(s, i, cp);
    if (n == 0 || is_control(cp))
      return false;
    i += n;
  }
  return true;
}

/// Characters as PostgreSQL's varchar(n) counts them: code points.
size_t char_count(std::string_view utf8) {
  size_t n = 0;
  for (char c : utf8)
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

// Caller text made safe to echo: the problem document is JSON, and
// nlohmann::json refuses to serialize invalid UTF-8.
std::string printable(std::string_view s, size_t max_chars) {
  std::string out;
  size_t chars = 0;
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    if (chars == max_chars) {
      out += "...";
      break;
    }
    size_t n = utf8_sequence(s, i, cp);
    if (n == 0 || is_control(cp)) {
      // Each byte of a C1 control too: \xC2\x85, as it came.
      for (size_t k = 0; k < std::max<size_t>(n, 1); ++k) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\x%02X",
                      static_cast<unsigned char>(s[i + k]));
        out += buf;
      }
      i += std::max<size_t>(n, 1);
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

std::string too_long(size_t max_chars) {
  return "is longer than " + std::to_string(max_chars) + " characters";
}

const std::string nul_message
  = "must not contain the NUL character (\\u0000)";

// -- error collection ---------------------------------------------------------

class error_list {
public:
  void add(std::string field, std::string message) {
    if (errors_.size() < max_listed_errors)
      errors_.push_back({std::move(field), std::move(message)});
    ++total_;
  }

  bool empty() const {
    return total_ == 0;
  }

  /// `what` names the part of the request, e.g. "request body".
  request_error to_error(int status, std::string_view what) && {
    request_error err;
    err.status = status;
    err.detail = "invalid " + std::string{what} + ": ";
    const auto& first = errors_.front();
    if (!first.field.empty())
      err.detail += first.field + " ";
    err.detail += first.message;
    if (total_ > 1)
      err.detail += " (and " + std::to_string(total_ - 1) + " more problem"
                    + (total_ > 2 ? "s" : "") + ")";
    if (total_ > errors_.size())
      err.detail += "; the first " + std::to_string(errors_.size())
                    + " are listed";
    err.errors = std::move(errors_);
    return err;
  }

private:
  std::vector<field_error> errors_;
  size_t total_ = 0;
};

// -- JSON paths ---------------------------------------------------------------

bool is_word(std::string_view key) {
  if (key.empty())
    return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

// Keys that would make a dotted path ambiguous (a SHAP feature "a.b") are
// written in brackets, as JSONPath does.
std::string member_path(const std::string& parent, std::string_view key) {
  if (is_word(key) && key.size() <= max_echoed_chars)
    return parent.empty() ? std::string{key} : parent + "." + std::string{key};
  return parent + "[" + json(printable(key, max_echoed_chars)).dump() + "]";
}

std::string index_path(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

// -- reading a body -----------------------------------------------------------

// Every valid body nests 3 levels deep; this cap keeps a 1 MiB "[[[[..."
// from costing a hundred megabytes before it is refused.
constexpr size_t max_depth = 32;

struct too_deep {};

// Builds the DOM as json::parse does, through nlohmann's SAX interface, and
// refuses duplicate keys on the way: nlohmann::json keeps the last of two
// equal keys; a proxy or log reader may keep the first. Refusing duplicates
// leaves no room for two readings. (A parser callback did the same at about
// twice the cost: it copied every key into a std::set of its own.)
class dom_builder {
public:
  dom_builder(json& root, error_list& errors) : root_(root), errors_(errors) {
    // Nothing.
  }

  bool null() {
    *slot() = nullptr;
    return true;
  }
  bool boolean(bool v) {
    *slot() = v;
    return true;
  }
  bool number_integer(json::number_integer_t v) {
    *slot() = v;
    return true;
  }
  bool number_unsigned(json::number_unsigned_t v) {
    *slot() = v;
    return true;
  }
  bool number_float(json::number_float_t v, const json::string_t&) {
    *slot() = v;
    return true;
  }
  bool string(json::string_t& v) {
    *slot() = std::move(v);
    return true;
  }
  bool binary(json::binary_t& v) {
    *slot() = json::binary(std::move(v));
    return true;
  }
  bool start_object(std::size_t) {
    open(json::object());
    return true;
  }
  bool start_array(std::size_t) {
    open(json::array());
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool key(json::string_t& k) {
    auto& top = stack_.back();
    auto [member, added] =
      top.value->get_ref<json::object_t&>().try_emplace(std::move(k));
    top.key = &member->first;
    top.member = &member->second;
    if (!added) // the value that follows replaces it, as in json::parse
      errors_.add(path(), "is given more than once");
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    throw e;
  }

private:
  struct frame {
    json* value;
    const std::string* key = nullptr; // an object's member being read
    json* member = nullptr;
  };

  // Where the next value goes: the root, an array's new element, or the
  // member whose key came last. Pointers into the DOM stay valid: a map's
  // nodes do not move, and an array grows only while no child is open.
  json* slot() {
    if (stack_.empty())
      return &root_;
    auto& top = stack_.back();
    if (top.value->is_array())
      return &top.value->get_ref<json::array_t&>().emplace_back();
    return top.member;
  }

  void open(json container) {
    if (stack_.size() == max_depth)
      throw too_deep{};
    json* at = slot();
    *at = std::move(container);
    stack_.push_back({at});
  }

  std::string path() const {
    std::string out;
    for (const auto& f : stack_)
      out = f.value->is_object()
              ? member_path(out, *f.key)
              : index_path(out, f.value->size() - 1);
    return out;
  }

  json& root_;
  error_list& errors_;
  std::vector<frame> stack_;
};

std::string kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

enum class empty_body { refused, is_empty_object };

// Parses a body that must be a JSON object. Duplicate keys land in `errors`;
// malformed JSON, an empty body or a non-object return the refusal.
std::optional<request_error> read_object(std::string_view body,
                                         empty_body if_empty, json& out,
                                         error_list& errors) {
  if (is_blank(body)) {
    if (if_empty == empty_body::is_empty_object) {
      out = json::object();
      return std::nullopt;
    }
    return request_error{400, "the request body is empty; a JSON object is "
                              "required", {}};
  }
  // nlohmann's lexer takes a raw NUL for the end of the input, so that
  // `{...}\0anything` would parse; JSON never holds one unescaped.
  if (auto nul = body.find('\0'); nul != std::string_view::npos)
    return request_error{400, "malformed JSON: a raw NUL byte at offset "
                                + std::to_string(nul),
                         {}};
  try {
    dom_builder builder{out, errors};
    json::sax_parse(body.begin(), body.end(), &builder);
  } catch (const too_deep&) {
    return request_error{422, "the request body is nested deeper than "
                                + std::to_string(max_depth) + " levels",
                         {}};
  } catch (const json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 6: syntax error ..."; keep the part a person can act on.
    std::string_view what = e.what();
    if (auto pos = what.find("] "); pos != std::string_view::npos)
      what.remove_prefix(pos + 2);
    std::string detail = "malformed JSON";
    if (what.substr(0, 12) == "parse error ") {
      what.remove_prefix(12);
      detail += " ";
    } else {
      detail += ": ";
    }
    return request_error{400, detail + printable(what, 240), {}};
  }
  if (!out.is_object())
    return request_error{422,
                         "the request body must be a JSON object, not "
                           + kind_of(out),
                         {}};
  return std::nullopt;
}

enum class presence { required, optional };

/// One JSON object under validation: hands out its members by name and at
/// the end reports every member nobody asked for, so a typo cannot pass.
class object_reader {
public:
  object_reader(const json& obj, std::string path, error_list& errors)
    : obj_(obj), path_(std::move(path)), errors_(errors) {
    // Nothing.
  }

  /// The member, or nullptr when it is absent or null: both mean "not
  /// given", as the original client sends null for what it leaves out.
  const json* get(std::string_view key) {
    known_.push_back(key);
    auto i = obj_.find(key);
    return i == obj_.end() || i->is_null() ? nullptr : &*i;
  }

  std::string path(std::string_view key) const {
    return member_path(path_, key);
  }

  error_list& errors() {
    return errors_;
  }

  void report_unknown() {
    for (const auto& member : obj_.get_ref<const json::object_t&>())
      if (std::find(known_.begin(), known_.end(), member.first)
          == known_.end())
        errors_.add(member_path(path_, member.first), "unknown field");
  }

private:
  const json& obj_;
  std::string path_;
  error_list& errors_;
  std::vector<std::string_view> known_; // a dozen names: a scan is cheapest
};

/// Checks what every stored string needs; adds an error and returns false
/// otherwise. `what` prefixes the message, e.g. for a key.
bool check_text(error_list& errors, const std::string& path,
                std::string_view s, size_t max_chars,
                const std::string& what = {}) {
  if (has_nul(s)) {
    errors.add(path, what + nul_message);
    return false;
  }
  if (char_count(s) > max_chars) {
    errors.add(path, what + too_long(max_chars));
    return false;
  }
  return true;
}

std::optional<std::string> string_field(object_reader& r, std::string_view key,
                                        size_t max_chars, presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    r.errors().add(r.path(key), "must be a string");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (p == presence::required && is_blank(s)) {
    r.errors().add(r.path(key), "is required and must not be blank");
    return std::nullopt;
  }
  if (!check_text(r.errors(), r.path(key), s, max_chars))
    return std::nullopt;
  return s;
}

// JSON Schema's reading of integers: 5.0 is one, 5.5 is not.
std::optional<int64_t> as_int64(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer())
    return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    // 2^63 is exact as a double; anything below it converts without UB.
    if (std::isfinite(d) && std::floor(d) == d && d >= -9223372036854775808.0
        && d < 9223372036854775808.0)
      return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> number_field(object_reader& r, std::string_view key,
                                   double lo, double hi, presence p,
                                   const char* message) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_number() || !std::isfinite(v->get<double>())
      || v->get<double>() < lo || v->get<double>() > hi) {
    r.errors().add(r.path(key), message);
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> bool_field(object_reader& r, std::string_view key,
                               presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_boolean()) {
    r.errors().add(r.path(key), "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

const char* urgency_message = "must be one of low, medium, high, critical";

std::optional<urgency> urgency_field(object_reader& r, std::string_view key,
                                     presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  auto u = v->is_string() ? parse_urgency(v->get_ref<const std::string&>())
                          : std::nullopt;
  if (!u)
    r.errors().add(r.path(key), urgency_message);
  return u;
}

std::optional<std::string> decision_id_field(object_reader& r) {
  const json* v = r.get("decision_id");
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_string()
      || !valid_decision_id(v->get_ref<const std::string&>())) {
    r.errors().add(r.path("decision_id"),
                   "must be 1 to 255 characters of A-Z, a-z, 0-9, '.', '_', "
                   "':' and '-'");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::vector<std::string> string_list_field(object_reader& r,
                                           std::string_view key,
                                           size_t max_items,
                                           size_t max_chars) {
  std::vector<std::string> out;
  const json* v = r.get(key);
  if (v == nullptr)
    return out;
  auto path = r.path(key);
  if (!v->is_array()) {
    r.errors().add(path, "must be a list of strings");
    return out;
  }
  if (v->size() > max_items) {
    r.errors().add(path, "has more than " + std::to_string(max_items)
                           + " items");
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    auto item_path = index_path(path, i);
    if (!item.is_string())
      r.errors().add(item_path, "must be a string");
    else if (is_blank(item.get_ref<const std::string&>()))
      r.errors().add(item_path, "must not be blank");
    else if (check_text(r.errors(), item_path,
                        item.get_ref<const std::string&>(), max_chars))
      out.push_back(item.get<std::string>());
  }
  return out;
}

// An object member that must itself be an object; nullptr when not given or
// when wrong (then the error is recorded).
const json* object_field(object_reader& r, std::string_view key, presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return nullptr;
  }
  if (!v->is_object()) {
    r.errors().add(r.path(key), p == presence::required
                                  ? "must be an object"
                                  : "must be an object or null");
    return nullptr;
  }
  return v;
}

// -- create-decision ----------------------------------------------------------

patch_metadata read_metadata(const json& obj, error_list& errors) {
  object_reader r{obj, "patch_metadata", errors};
  patch_metadata m;
  auto req = presence::required;
  auto opt = presence::optional;
  m.apv_id = string_field(r, "apv_id", 255, req).value_or("");
  m.cve_id = string_field(r, "cve_id", 50, opt);
  m.package_name = string_field(r, "package_name", 255, req).value_or("");
  m.current_version = string_field(r, "current_version", 100, req).value_or("");
  m.target_version = string_field(r, "target_version", 100, req).value_or("");
  m.severity = urgency_field(r, "severity", req).value_or(urgency::medium);
  m.cvss_score = number_field(r, "cvss_score", 0, 10, opt,
                              "must be a number between 0 and 10");
  m.cwe_ids = string_list_field(r, "cwe_ids", 100, 32);
  m.affected_systems = string_list_field(r, "affected_systems", 1000, 255);
  if (const json* v = r.get("patch_size_lines")) {
    auto n = as_int64(*v);
    if (n && *n >= 0)
      m.patch_size_lines = n;
    else
      errors.add(r.path("patch_size_lines"), "must be a non-negative integer");
  }
  r.report_unknown();
  return m;
}

std::vector<std::pair<std::string, double>>
read_shap_values(object_reader& r) {
  std::vector<std::pair<std::string, double>> out;
  const json* v = r.get("shap_values");
  if (v == nullptr)
    return out;
  auto path = r.path("shap_values");
  if (!v->is_object()) {
    r.errors().add(path, "must be an object of feature names to numbers");
    return out;
  }
  if (v->size() > 256) {
    r.errors().add(path, "has more than 256 features");
    return out;
  }
  // items() walks std::map order, which is also jsonb's key order.
  for (const auto& [key, value] : v->items()) {
    auto item_path = member_path(path, key);
    if (key.empty()) {
      r.errors().add(item_path, "feature name must not be empty");
      continue;
    }
    if (!check_text(r.errors(), item_path, key, 128, "feature name "))
      continue;
    if (!value.is_number() || !std::isfinite(value.get<double>()))
      r.errors().add(item_path, "must be a number");
    else
      out.emplace_back(key, value.get<double>());
  }
  return out;
}

ml_prediction read_ml(const json& obj, error_list& errors) {
  object_reader r{obj, "ml_prediction", errors};
  ml_prediction ml;
  auto opt = presence::optional;
  ml.model_version = string_field(r, "model_version", 100, opt);
  ml.confidence = number_field(r, "confidence", 0, 1, presence::required,
                               "must be a number between 0 and 1")
                    .value_or(0);
  ml.prediction = bool_field(r, "prediction", presence::required)
                    .value_or(false);
  ml.shap_values = read_shap_values(r);
  ml.execution_time_ms = number_field(r, "execution_time_ms", 0,
                                      std::numeric_limits<double>::max(), opt,
                                      "must be a non-negative number");
  r.report_unknown();
  return ml;
}

wargaming_result read_wargaming(const json& obj, error_list& errors) {
  object_reader r{obj, "wargaming_result", errors};
  wargaming_result wg;
  auto req = presence::required;
  auto opt = presence::optional;
  wg.phase1_success = bool_field(r, "phase1_success", req).value_or(false);
  wg.phase2_success = bool_field(r, "phase2_success", req).value_or(false);
  wg.validation_passed = bool_field(r, "validation_passed", req)
                           .value_or(false);
  wg.execution_time_ms = number_field(r, "execution_time_ms", 0,
                                      std::numeric_limits<double>::max(), opt,
                                      "must be a non-negative number");
  wg.error_message = string_field(r, "error_message", max_text_chars, opt);
  wg.exploit_id = string_field(r, "exploit_id", 255, opt);
  r.report_unknown();
  return wg;
}

// Fields of the original record that the server owns. The original client
// sends them with their defaults; any other value would let a caller skip
// review, so it is refused rather than ignored.
enum class owned { null, pending, is_false, empty_list, zero, any_time };

struct owned_field {
  std::string_view name;
  owned accepts;
};

constexpr owned_field owned_fields[] = {
  {"decision", owned::pending},
  {"decided_by", owned::null},
  {"decided_at", owned::null},
  {"comment", owned::null},
  {"reason", owned::null},
  {"created_by", owned::null},
  {"sla_deadline", owned::null},
  {"policy_version", owned::null},
  {"version", owned::null},
  {"approvals_required", owned::null},
  {"requires_escalation", owned::is_false},
  {"auto_approval_eligible", owned::is_false},
  {"ml_wargaming_agreement", owned::is_false},
  {"approvals", owned::empty_list},
  {"escalation_level", owned::zero},
  {"created_at", owned::any_time},
  {"updated_at", owned::any_time},
};

// Pydantic writes the original client's datetime.utcnow() without an offset;
// it is UTC, so such text is read as if it ended in "Z".
bool is_timestamp(const std::string& s) {
  return parse_iso(s) || parse_iso(s + "Z");
}

void check_owned(object_reader& r, const owned_field& f) {
  const json* v = r.get(f.name);
  if (v == nullptr)
    return;
  const char* def = nullptr;
  switch (f.accepts) {
    case owned::null:
      def = "null";
      break;
    case owned::pending:
      if (v->is_string() && v->get_ref<const std::string&>() == "pending")
        return;
      def = "\"pending\"";
      break;
    case owned::is_false:
      if (v->is_boolean() && !v->get<bool>())
        return;
      def = "false";
      break;
    case owned::empty_list:
      if (v->is_array() && v->empty())
        return;
      def = "[]";
      break;
    case owned::zero:
      if (v->is_number() && v->get<double>() == 0)
        return;
      def = "0";
      break;
    case owned::any_time:
      if (v->is_string() && is_timestamp(v->get_ref<const std::string&>()))
        return;
      r.errors().add(r.path(f.name),
                     "must be an ISO 8601 timestamp or null (it is ignored: "
                     "the server's clock sets it)");
      return;
  }
  r.errors().add(r.path(f.name),
                 std::string{"is set by the server; only its default ("} + def
                   + ") is accepted");
}

} // namespace

// -- bodies -------------------------------------------------------------------

parsed<new_decision> parse_create_decision(std::string_view body) {
  error_list errors;
  json doc;
  if (auto refused = read_object(body, empty_body::refused, doc, errors))
    return *refused;
  object_reader r{doc, "", errors};
  new_decision nd;
  nd.decision_id = decision_id_field(r);
  nd.patch_id = string_field(r, "patch_id", max_id_chars, presence::required)
                  .value_or("");
  // A path names the patch too (SPEC §10): it must be text a URL can carry.
  if (!nd.patch_id.empty() && !plain_text(nd.patch_id))
    errors.add("patch_id", "must not contain control characters");
  if (const json* m = object_field(r, "patch_metadata", presence::required))
    nd.metadata = read_metadata(*m, errors);
  if (const json* ml = object_field(r, "ml_prediction", presence::optional))
    nd.ml = read_ml(*ml, errors);
  if (const json* wg = object_field(r, "wargaming_result", presence::optional))
    nd.wargaming = read_wargaming(*wg, errors);
  nd.requires_manual_review
    = bool_field(r, "requires_manual_review", presence::optional)
        .value_or(false);
  nd.requested_priority = urgency_field(r, "priority", presence::optional);
  for (const auto& f : owned_fields)
    check_owned(r, f);
  r.report_unknown();
  if (!errors.empty())
    return std::move(errors).to_error(422, "request body");
  return nd;
}

namespace {

// The verdict bodies share their shape: read the fields, then accept the
// original client's `user`, which the token's identity replaces.
template <class T, class Read>
parsed<T> parse_verdict_body(std::string_view body, empty_body if_empty,
                             Read read) {
  error_list errors;
  json doc;
  if (auto refused = read_object(body, if_empty, doc, errors))
    return *refused;
  object_reader r{doc, "", errors};
  T out;
  out.decision_id = decision_id_field(r);
  read(r, out);
  if (const json* user = r.get("user"); user && !user->is_string())
    errors.add("user", "must be a string or null (it is ignored: the "
                       "token names the user)");
  r.report_unknown();
  if (!errors.empty())
    return std::move(errors).to_error(422, "request body");
  return out;
}

} // namespace

parsed<approve_body> parse_approve(std::string_view body) {
  return parse_verdict_body<approve_body>(
    body, empty_body::is_empty_object, [](object_reader& r, approve_body& b) {
      b.comment = string_field(r, "comment", max_text_chars,
                               presence::optional);
    });
}

parsed<reject_body> parse_reject(std::string_view body) {
  return parse_verdict_body<reject_body>(
    body, empty_body::refused, [](object_reader& r, reject_body& b) {
      b.reason = string_field(r, "reason", max_text_chars, presence::required)
                   .value_or("");
      b.comment = string_field(r, "comment", max_text_chars,
                               presence::optional);
    });
}

parsed<comment_body> parse_comment(std::string_view body) {
  return parse_verdict_body<comment_body>(
    body, empty_body::refused, [](object_reader& r, comment_body& b) {
      b.comment = string_field(r, "comment", max_text_chars,
                               presence::required)
                    .value_or("");
    });
}

parsed<cancel_body> parse_cancel(std::string_view body) {
  return parse_verdict_body<cancel_body>(
    body, empty_body::is_empty_object, [](object_reader& r, cancel_body& b) {
      b.reason = string_field(r, "reason", max_text_chars, presence::optional);
    });
}

// -- query strings ------------------------------------------------------------

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
          errors_.add(printable(key, max_echoed_chars), "unknown parameter");
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
  if (!check_text(q.errors(), name, *s, max_chars))
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
    q.errors().add(name, urgency_message);
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

bool valid_decision_id(std::string_view id) {
  if (id.empty() || id.size() > 255)
    return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':'
              || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::optional<std::string> parse_path_id(std::string_view raw,
                                         path_id_kind kind) {
  // The longest id, 255 characters of four bytes, each written %XX.
  if (raw.empty() || raw.size() > max_id_chars * 4 * 3)
    return std::nullopt;
  std::string id;
  id.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      id += raw[i];
      continue;
    }
    int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    int lo = hi >= 0 ? hex_value(raw[i + 2]) : -1;
    if (lo < 0)
      return std::nullopt;
    id += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  switch (kind) {
    case path_id_kind::decision_id:
      if (!valid_decision_id(id))
        return std::nullopt;
      break;
    case path_id_kind::patch_id:
      // As parse_create_decision takes it: not blank, 255 characters.
      if (is_blank(id) || !plain_text(id) || char_count(id) > max_id_chars)
        return std::nullopt;
      break;
    case path_id_kind::file_name:
      if (id.size() > max_id_chars || !plain_text(id))
        return std::nullopt;
      break;
  }
  return id;
}

std::string storable_text(std::string_view raw, size_t max_bytes) {
  static constexpr std::string_view replacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(std::min(raw.size(), max_bytes));
  uint32_t cp = 0;
  for (size_t i = 0; i < raw.size();) {
    size_t n = utf8_sequence(raw, i, cp);
    bool ok = n > 0 && !is_control(cp);
    auto piece = ok ? raw.substr(i, n) : replacement;
    if (out.size() + piece.size() > max_bytes)
      break;
    out += piece;
    i += n > 0 ? n : 1; // one U+FFFD per control character, per bad byte
  }
  return out;
}

std::string echoable_text(std::string_view raw, size_t max_chars) {
  return printable(raw, max_chars);
}

} // namespace hitl
