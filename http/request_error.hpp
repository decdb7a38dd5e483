#pragma once

// How the edge refuses a request it parsed: the status, a one-line detail
// and the field errors that problem+json lists (SPEC §3).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace hitl {

struct field_error {
  std::string field;   // JSON path, e.g. "patch_metadata.severity"
  std::string message; // for a person, e.g. "must be one of low, medium, ..."
};

/// Why a request was refused: 400 (malformed JSON, bad query) or 422
/// (well-formed but invalid), with a one-line detail and the field errors.
struct request_error {
  int status = 422;
  std::string detail;
  std::vector<field_error> errors;
};

template <class T>
using parsed = std::variant<T, request_error>;

using query_params = std::vector<std::pair<std::string, std::string>>;

/// The errors found in one part of a request, in the order found. A body of
/// 1 MiB could name thousands of unknown fields: all are counted, the first
/// hundred listed.
class error_list {
public:
  static constexpr size_t max_listed = 100;

  void add(std::string field, std::string message);

  /// Checks what every stored string needs (no NUL, at most `max_chars`
  /// characters); adds an error and returns false otherwise. `what`
  /// prefixes the message, e.g. "feature name ".
  bool check_text(const std::string& path, std::string_view s,
                  size_t max_chars, const std::string& what = {});

  bool empty() const {
    return total_ == 0;
  }

  /// `what` names the part of the request, e.g. "request body".
  request_error to_error(int status, std::string_view what) &&;

private:
  std::vector<field_error> errors_;
  size_t total_ = 0;
};

} // namespace hitl
