// serve --log-format json: each line one object; messages escaped; access
// lines' members written as fields.

#include "cli/json_log_formatter.hpp"

#include "http/access_log.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <string>

using namespace hitl;

namespace {

std::string formatted(std::string_view logger, spdlog::level::level_enum lvl,
                      std::string_view payload) {
  spdlog::details::log_msg msg{
    spdlog::string_view_t{logger.data(), logger.size()}, lvl,
    spdlog::string_view_t{payload.data(), payload.size()}};
  // 2026-12-04T10:53:14.906Z
  msg.time = spdlog::log_clock::time_point{
    std::chrono::milliseconds{1796381594906}};
  spdlog::memory_buf_t out;
  json_log_formatter{}.format(msg, out);
  return {out.data(), out.size()};
}

} // namespace

TEST_CASE("a log line in JSON: ts in RFC 3339 UTC with ms, level, msg "
          "escaped") {
  auto text = formatted("", spdlog::level::warn,
                        "line\nbreak \"quoted\" \x01 \xff");
  REQUIRE(text.back() == '\n');
  CHECK(text.find('\n') == text.size() - 1);
  auto line = nlohmann::json::parse(text);
  CHECK(line["ts"] == "2026-12-04T10:53:14.906Z");
  CHECK(line["level"] == "warning");
  CHECK(line["msg"] == "line\nbreak \"quoted\" \x01 \xef\xbf\xbd");
  CHECK(line.size() == 3);
}

TEST_CASE("an access line in JSON has its members as fields") {
  access_entry e;
  e.request_id = "r-9";
  e.method = "GET";
  e.route = "/health";
  e.status = 200;
  auto text = formatted(access_logger_name, spdlog::level::info,
                        access_log::render(log_format::json, e));
  auto line = nlohmann::json::parse(text);
  CHECK(line["level"] == "info");
  CHECK(line["msg"] == "access");
  CHECK(line["request_id"] == "r-9");
  CHECK(line["status"] == 200);
  // Another logger's message that looks like members stays a message.
  auto other = nlohmann::json::parse(
    formatted("", spdlog::level::info, R"("msg":"forged"})"));
  CHECK(other["msg"] == R"("msg":"forged"})");
}
