#pragma once

// `hitl serve --log-format json`: every line the log writes is one JSON
// object, {"ts": RFC 3339 UTC with milliseconds, "level", "msg"}, so that a
// log shipper needs no pattern to read it. Access lines
// (http/access_log.hpp) carry their fields after ts and level.

#include <spdlog/formatter.h>

#include <memory>

namespace hitl {

class json_log_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

} // namespace hitl
