#include "cli/systemd_readiness.hpp"

#include "cli/systemd_notify.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace hitl {

namespace {

using std::chrono::milliseconds;

/// Until ready: how often to ask again, and how long one answer may take
/// (the health check's own checks give up after 3 s).
constexpr milliseconds start_retry{250};
constexpr milliseconds start_timeout{5000};

} // namespace

systemd_readiness::systemd_readiness(probe_fn probe, std::string serving)
  : probe_(std::move(probe)), serving_(std::move(serving)) {
  if (systemd_notify_enabled())
    thread_ = std::thread([this] { run(); });
}

systemd_readiness::~systemd_readiness() {
  stop_thread();
}

void systemd_readiness::stopping() {
  stop_thread();
  systemd_notify_stopping();
}

void systemd_readiness::stop_thread() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

bool systemd_readiness::stopped_within(std::chrono::steady_clock::duration d) {
  std::unique_lock<std::mutex> lock{mutex_};
  return wake_.wait_for(lock, d, [this] { return stop_; });
}

void systemd_readiness::run() {
  // READY=1 only once /health would answer 200: HTTP listens (serve starts
  // this after it), the supervisor and the auditor answer, the database
  // does. Until then systemd's TimeoutStartSec= runs.
  for (;;) {
    auto probe = probe_(start_timeout);
    if (probe.ok)
      break;
    systemd_notify_status("starting: " + probe.detail);
    if (stopped_within(start_retry))
      return;
  }
  systemd_notify_ready(serving_);
  spdlog::info("systemd: ready");
  auto period = systemd_watchdog_period();
  if (!period)
    return;
  // Half the period, as sd_watchdog_enabled(3) advises: one late probe
  // does not cost the service its life, two do.
  auto interval = std::chrono::duration_cast<milliseconds>(*period / 2);
  interval = std::max(interval, milliseconds{1});
  spdlog::info("systemd: watchdog every {} ms, fed while /health's round "
               "trip succeeds",
               interval.count());
  bool healthy = true;
  for (;;) {
    auto next = std::chrono::steady_clock::now() + interval;
    auto probe = probe_(interval);
    if (probe.ok) {
      systemd_notify_watchdog();
      if (!healthy) {
        spdlog::info("systemd: healthy again, feeding the watchdog");
        systemd_notify_status(serving_);
      }
    } else if (healthy) {
      spdlog::warn("systemd: not feeding the watchdog: {}", probe.detail);
      systemd_notify_status("unhealthy: " + probe.detail);
    }
    healthy = probe.ok;
    if (stopped_within(next - std::chrono::steady_clock::now()))
      return;
  }
}

} // namespace hitl
