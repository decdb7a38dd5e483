#include "cli/systemd_notify.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

namespace hitl {

namespace {

// sd_notify returns 0 without NOTIFY_SOCKET and a negative errno when the
// socket refuses the datagram: the latter is worth a line in the log, not
// a stop (the service itself is fine).
void send(const std::string& state) {
  int rc = sd_notify(0, state.c_str());
  if (rc < 0)
    spdlog::warn("sd_notify({}) failed: {}", state.substr(0, state.find('=')),
                 std::strerror(-rc));
}

// A STATUS line is one line: a newline would start another assignment.
std::string one_line(std::string text) {
  for (auto& c : text)
    if (c == '\n' || c == '\r')
      c = ' ';
  return text;
}

} // namespace

bool systemd_notify_enabled() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && *socket != '\0';
}

void systemd_notify_status(const std::string& text) {
  if (systemd_notify_enabled())
    send("STATUS=" + one_line(text));
}

void systemd_notify_ready(const std::string& status) {
  if (systemd_notify_enabled())
    send("READY=1\nSTATUS=" + one_line(status));
}

void systemd_notify_stopping() {
  if (systemd_notify_enabled())
    send("STOPPING=1\nSTATUS=shutting down");
}

void systemd_notify_watchdog() {
  if (systemd_notify_enabled())
    send("WATCHDOG=1");
}

std::optional<std::chrono::microseconds> systemd_watchdog_period() {
  uint64_t usec = 0;
  if (!systemd_notify_enabled() || sd_watchdog_enabled(0, &usec) <= 0
      || usec == 0)
    return std::nullopt;
  return std::chrono::microseconds(usec);
}

} // namespace hitl
