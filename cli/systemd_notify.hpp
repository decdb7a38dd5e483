#pragma once

// What `hitl serve` tells systemd when it runs as a Type=notify unit
// (sd_notify(3)). Every function does nothing when NOTIFY_SOCKET is unset,
// so serve behaves the same outside systemd. libsystemd's header stays in
// systemd_notify.cpp.

#include <chrono>
#include <optional>
#include <string>

namespace hitl {

/// Whether a service manager listens (NOTIFY_SOCKET is set).
bool systemd_notify_enabled();

/// `STATUS=text`: what `systemctl status` shows as the service's state.
void systemd_notify_status(const std::string& text);

/// `READY=1` with a STATUS line: start-up is over, the service serves.
void systemd_notify_ready(const std::string& status);

/// `STOPPING=1`: shutdown has begun.
void systemd_notify_stopping();

/// `WATCHDOG=1`: the service is alive (only while it really is).
void systemd_notify_watchdog();

/// The watchdog period systemd asks for (WATCHDOG_USEC, for this process
/// per WATCHDOG_PID); none when no watchdog is set.
std::optional<std::chrono::microseconds> systemd_watchdog_period();

} // namespace hitl
