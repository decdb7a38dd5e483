#include "cli/json_log_formatter.hpp"

#include "http/access_log.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

namespace hitl {

namespace {

void append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

void append_timestamp(spdlog::memory_buf_t& dest,
                      spdlog::log_clock::time_point t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char buf[32];
  auto n = std::snprintf(buf, sizeof(buf),
                         "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                         utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                         utc.tm_hour, utc.tm_min, utc.tm_sec,
                         static_cast<int>(ms % 1000));
  dest.append(buf, buf + n);
}

} // namespace

void json_log_formatter::format(const spdlog::details::log_msg& msg,
                                spdlog::memory_buf_t& dest) {
  append(dest, R"({"ts":")");
  append_timestamp(dest, msg.time);
  append(dest, R"(","level":")");
  auto level = spdlog::level::to_string_view(msg.level);
  dest.append(level.data(), level.data() + level.size());
  append(dest, "\",");
  std::string_view payload{msg.payload.data(), msg.payload.size()};
  std::string_view name{msg.logger_name.data(), msg.logger_name.size()};
  if (name == access_logger_name) {
    append(dest, payload); // the members and the closing brace
  } else {
    // Messages may quote client text or PostgreSQL's: escaped, and
    // invalid UTF-8 replaced rather than thrown on.
    append(dest, "\"msg\":");
    append(dest, nlohmann::json(std::string{payload})
                   .dump(-1, ' ', false,
                         nlohmann::json::error_handler_t::replace));
    append(dest, "}");
  }
  append(dest, "\n");
}

std::unique_ptr<spdlog::formatter> json_log_formatter::clone() const {
  return std::make_unique<json_log_formatter>();
}

} // namespace hitl
