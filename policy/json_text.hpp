#pragma once

// JSON written straight into a string, for the paths that used to build an
// nlohmann DOM only to dump it at once: a decision's body (every verdict's
// response, webhook and live event), a creation's content hash and each
// audit entry's canonical form. Building and dumping those DOMs was about a
// sixth of the service's CPU per creation.
//
// The text is byte for byte what nlohmann's compact dump gives for the same
// values when the caller writes an object's keys in sorted order, as a
// std::map holds them: stored content hashes and audit hashes depend on it,
// and tests/json_text_tests.cpp checks it against the DOM.

#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

class json_text {
public:
  /// How text that is not valid UTF-8 is written: refused with nlohmann's
  /// type_error (as `dump()`), or with each bad byte replaced by U+FFFD (as
  /// `dump(…, error_handler_t::replace)`).
  enum class invalid_utf8 : uint8_t { refuse, replace };

  explicit json_text(std::string& out,
                     invalid_utf8 policy = invalid_utf8::refuse)
    : out_(out), policy_(policy) {
  }

  json_text& begin_object();
  json_text& end_object();
  json_text& begin_array();
  json_text& end_array();
  json_text& key(std::string_view k);

  json_text& string(std::string_view v);
  json_text& string(const std::string& v) {
    return string(std::string_view{v});
  }
  json_text& string(const char* v) {
    return string(std::string_view{v});
  }
  json_text& string(const std::optional<std::string>& v);
  json_text& integer(int64_t v);
  json_text& real(double v);
  json_text& real(const std::optional<double>& v);
  json_text& integer(const std::optional<int64_t>& v);
  json_text& boolean(bool v);
  json_text& null();
  json_text& time(timestamp t); // format_iso, as a string
  json_text& time(const std::optional<timestamp>& t);
  json_text& strings(const std::vector<std::string>& v);
  /// Text that is already JSON, inserted as it is.
  json_text& raw(std::string_view json);

private:
  bool needs_comma() const;
  void separate();
  void quoted(std::string_view v, std::string_view tail);
  void scalar(std::string_view text);

  std::string& out_;
  invalid_utf8 policy_;
};

} // namespace hitl
