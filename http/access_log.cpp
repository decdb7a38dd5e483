#include "http/access_log.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cmath>
#include <iterator>
#include <string>

namespace hitl {

namespace {

std::string text_line(const access_entry& e) {
  fmt::memory_buffer out;
  fmt::format_to(std::back_inserter(out), "{} {} {} {:.2f}ms {}", e.method,
                 e.route, e.status, e.duration_ms,
                 e.identity.empty() ? std::string_view{"-"} : e.identity);
  if (!e.role.empty())
    fmt::format_to(std::back_inserter(out), "/{}", e.role);
  fmt::format_to(std::back_inserter(out), " request={}", e.request_id);
  if (!e.decision_id.empty())
    fmt::format_to(std::back_inserter(out), " decision={}", e.decision_id);
  if (!e.patch_id.empty())
    fmt::format_to(std::back_inserter(out), " patch={}", e.patch_id);
  if (!e.remote.empty())
    fmt::format_to(std::back_inserter(out), " from {}", e.remote);
  return fmt::to_string(out);
}

// The members in the order a reader looks for them (ordered_json); ids
// from clients were checked at the edge but are escaped all the same, and
// invalid UTF-8 is replaced rather than thrown on.
std::string json_members(const access_entry& e) {
  nlohmann::ordered_json line;
  line["msg"] = "access";
  line["request_id"] = e.request_id;
  line["method"] = e.method;
  line["route"] = e.route;
  line["status"] = e.status;
  line["duration_ms"] = std::round(e.duration_ms * 1000) / 1000;
  if (!e.identity.empty())
    line["identity"] = e.identity;
  if (!e.role.empty())
    line["role"] = e.role;
  if (!e.decision_id.empty())
    line["decision_id"] = e.decision_id;
  if (!e.patch_id.empty())
    line["patch_id"] = e.patch_id;
  if (!e.remote.empty())
    line["remote"] = e.remote;
  auto text = line.dump(-1, ' ', false,
                        nlohmann::ordered_json::error_handler_t::replace);
  return text.substr(1);
}

} // namespace

access_log::access_log(log_format format)
  : format_(format),
    logger_(spdlog::default_logger()->clone(std::string{access_logger_name})) {
}

access_log::~access_log() = default;

std::string access_log::render(log_format format, const access_entry& e) {
  return format == log_format::json ? json_members(e) : text_line(e);
}

void access_log::write(const access_entry& e) {
  logger_->info(render(format_, e));
}

} // namespace hitl
