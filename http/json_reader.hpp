#pragma once

// The strict JSON reader of request bodies: a body is read once into a DOM
// that refuses duplicate keys, raw NULs and nesting deeper than any valid
// body, and an object is read member by member so that every member nobody
// asked for is reported (a typo cannot pass). The per-endpoint schemas
// (body_schemas.hpp) are written with these readers.

#include "http/request_error.hpp"
#include "policy/decision.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl::strict_json {

using json = nlohmann::json;

/// Caller text echoed in a field name or detail is cut to this many chars.
constexpr size_t max_echoed_chars = 64;

/// Every valid body nests 3 levels deep; this cap keeps a 1 MiB "[[[[..."
/// from costing a hundred megabytes before it is refused.
constexpr size_t max_depth = 32;

/// The path of an object's member, e.g. "patch_metadata.severity"; a key
/// that would make a dotted path ambiguous (a SHAP feature "a.b") is
/// written in brackets, as JSONPath does.
std::string member_path(const std::string& parent, std::string_view key);
std::string index_path(const std::string& parent, size_t i);

enum class empty_body { refused, is_empty_object };

/// Parses a body that must be a JSON object into `out`. Duplicate keys land
/// in `errors`; malformed JSON, an empty body or a non-object return the
/// refusal.
std::optional<request_error> read_object(std::string_view body,
                                         empty_body if_empty, json& out,
                                         error_list& errors);

enum class presence { required, optional };

/// One JSON object under validation: hands out its members by name and at
/// the end reports every member nobody asked for.
class object_reader {
public:
  object_reader(const json& obj, std::string path, error_list& errors)
    : obj_(obj), path_(std::move(path)), errors_(errors) {
    // Nothing.
  }

  /// The member, or nullptr when it is absent or null: both mean "not
  /// given", as the original client sends null for what it leaves out.
  const json* get(std::string_view key);

  std::string path(std::string_view key) const {
    return member_path(path_, key);
  }

  error_list& errors() {
    return errors_;
  }

  void report_unknown();

private:
  const json& obj_;
  std::string path_;
  error_list& errors_;
  std::vector<std::string_view> known_; // a dozen names: a scan is cheapest
};

// Typed members. Each adds its error to the reader's list and returns
// nothing when the member is missing (and required) or wrong.

std::optional<std::string> string_field(object_reader& r, std::string_view key,
                                        size_t max_chars, presence p);

/// JSON Schema's reading of integers: 5.0 is one, 5.5 is not.
std::optional<int64_t> as_int64(const json& v);

std::optional<double> number_field(object_reader& r, std::string_view key,
                                   double lo, double hi, presence p,
                                   const char* message);

std::optional<bool> bool_field(object_reader& r, std::string_view key,
                               presence p);

extern const char* const urgency_message;

std::optional<urgency> urgency_field(object_reader& r, std::string_view key,
                                     presence p);

/// The optional `decision_id` member of a body (valid_decision_id).
std::optional<std::string> decision_id_field(object_reader& r);

std::vector<std::string> string_list_field(object_reader& r,
                                           std::string_view key,
                                           size_t max_items, size_t max_chars);

/// A member that must itself be an object; nullptr when not given or when
/// wrong (then the error is recorded).
const json* object_field(object_reader& r, std::string_view key, presence p);

} // namespace hitl::strict_json
