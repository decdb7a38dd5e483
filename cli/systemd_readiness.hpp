#pragma once

// Readiness and watchdog for systemd (Type=notify, WatchdogSec=): a thread
// of its own asks `probe`, the round trip that /health makes, and sends
// READY=1 after the first that succeeds, then WATCHDOG=1 every half
// watchdog period while probes keep succeeding. A service that stops
// answering stops feeding the watchdog, and systemd restarts it. The probe
// blocks this thread only, never a CAF worker or an HTTP thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace hitl {

/// One probe's verdict; `detail` says what failed when it did not succeed.
struct readiness_probe {
  bool ok = false;
  std::string detail;
};

class systemd_readiness {
public:
  /// Asks the service with a deadline; must return within about `timeout`.
  using probe_fn = std::function<readiness_probe(std::chrono::milliseconds)>;

  /// Does nothing without NOTIFY_SOCKET. `serving` is the STATUS line
  /// sent with READY=1 (and again after a recovery).
  systemd_readiness(probe_fn probe, std::string serving);
  /// Stops probing; waits at most for the probe under way.
  ~systemd_readiness();

  systemd_readiness(const systemd_readiness&) = delete;
  systemd_readiness& operator=(const systemd_readiness&) = delete;

  /// Stops the thread, then sends STOPPING=1.
  void stopping();

private:
  void run();
  /// Waits `d` unless stopped meanwhile; true when stopped.
  bool stopped_within(std::chrono::steady_clock::duration d);
  void stop_thread();

  probe_fn probe_;
  std::string serving_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

} // namespace hitl
