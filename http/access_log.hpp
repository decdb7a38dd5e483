#pragma once

// One line per answered request (the access log), in the format the log is
// written in. Lines go through a logger of their own that shares the
// default logger's sinks, so that the JSON formatter of the log
// (cli/json_log_formatter.hpp) can tell them from the others by its name
// and write their fields as fields.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace spdlog {
class logger;
} // namespace spdlog

namespace hitl {

enum class log_format : uint8_t { text, json };

/// The name of the access lines' logger. In JSON, its payload is the
/// members of the line's object after ts and level, without the opening
/// brace (see access_log::write).
constexpr std::string_view access_logger_name = "access";

/// What one line says of a request. Empty views are left out of the line.
struct access_entry {
  std::string_view request_id;
  std::string_view method;
  /// The route's template (/hitl/decisions/{decision_id}), never the raw
  /// path: its values are bounded in number.
  std::string_view route;
  int status = 0;
  double duration_ms = 0;
  /// The token's name and role, once it was found; never the token.
  std::string_view identity;
  std::string_view role;
  std::string_view decision_id;
  std::string_view patch_id;
  std::string_view remote;
};

class access_log {
public:
  /// Writes to the sinks of spdlog's default logger as it is now.
  explicit access_log(log_format format);
  ~access_log();
  access_log(const access_log&) = delete;
  access_log& operator=(const access_log&) = delete;

  void write(const access_entry& e);

  /// The line's text in text format, or its JSON members (see
  /// access_logger_name) in JSON: what write logs.
  static std::string render(log_format format, const access_entry& e);

private:
  log_format format_;
  std::shared_ptr<spdlog::logger> logger_;
};

} // namespace hitl
