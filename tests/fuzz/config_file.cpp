// Fuzzes the --config file: the input is the file's text, read by
// load_service_config exactly as `hitl serve` reads it (through a file, so
// that its own JSON parsing is covered too). Beyond "no crash":
// - the only exception is config_error, its message "<where>: <what>";
// - an accepted config holds values in the documented ranges, and gives a
//   policy version of the form "1.<8 hex digits>", the same on a re-read.

#include "tests/fuzz/properties.hpp"

#include "cli/service_config.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace hitl;
using namespace hitl::fuzz;

namespace {

// One scratch file per fuzzing process, rewritten for each input.
const std::string& scratch_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string p = std::string{dir && *dir ? dir : "/tmp"}
                    + "/hitl-fuzz-config-" + std::to_string(getpid())
                    + ".json";
    std::atexit([] { std::remove(scratch_path().c_str()); });
    return p;
  }();
  return path;
}

void write_file(const std::string& path, std::string_view text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_REQUIRE(f != nullptr);
  FUZZ_REQUIRE(std::fwrite(text.data(), 1, text.size(), f) == text.size());
  FUZZ_REQUIRE(std::fclose(f) == 0);
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool http_url(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

bool positive(const std::optional<duration>& d) {
  return !d || d->count() > 0;
}

void check_config(const service_config& cfg) {
  const auto& p = cfg.policy;
  FUZZ_REQUIRE(p.min_confidence >= 0 && p.min_confidence <= 1);
  for (const auto& d : p.sla)
    FUZZ_REQUIRE(positive(d));
  FUZZ_REQUIRE(positive(p.escalation_repeat));
  FUZZ_REQUIRE(p.max_escalation_level >= 0
               && p.max_escalation_level <= 100);
  for (int n : p.approvals_required)
    FUZZ_REQUIRE(n >= 1 && n <= 100);
  auto version = p.version();
  FUZZ_REQUIRE(version.size() == 10 && version.rfind("1.", 0) == 0);
  for (size_t i = 2; i < version.size(); ++i)
    FUZZ_REQUIRE(is_hex(version[i]));
  for (const auto& hook : cfg.webhooks) {
    FUZZ_REQUIRE(http_url(hook.url));
    FUZZ_REQUIRE(!hook.events.empty());
    for (const auto& e : hook.events)
      FUZZ_REQUIRE(std::find(std::begin(webhook_events),
                             std::end(webhook_events), e)
                   != std::end(webhook_events));
  }
  FUZZ_REQUIRE(cfg.public_url.empty() || http_url(cfg.public_url));
  FUZZ_REQUIRE(cfg.public_url.empty() || cfg.public_url.back() != '/');
  FUZZ_REQUIRE(cfg.max_body_bytes >= 1 && cfg.max_body_bytes <= (1u << 30));
  const auto& n = cfg.notifications;
  FUZZ_REQUIRE(n.max_attempts >= 1 && n.max_attempts <= 1000);
  FUZZ_REQUIRE(n.timeout.count() > 0 && n.initial_backoff.count() > 0
               && n.max_backoff.count() > 0);
  const auto& l = cfg.limits;
  FUZZ_REQUIRE(l.max_connections >= 1);
  FUZZ_REQUIRE(l.max_ws_message_bytes >= 126);
  FUZZ_REQUIRE(l.max_concurrent_scans >= 1 && l.max_concurrent_scans <= 64);
  FUZZ_REQUIRE(l.header_timeout.count() > 0 && l.body_timeout.count() > 0);
  FUZZ_REQUIRE(l.scan_result_reuse.count() > 0
               && l.auth_failure_window.count() > 0);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& path = scratch_path();
  write_file(path, as_text(data, size));
  std::optional<service_config> cfg;
  try {
    cfg = load_service_config(path);
  } catch (const config_error& e) {
    FUZZ_REQUIRE(std::string_view{e.what()}.find(": ") != std::string::npos);
    return 0;
  }
  // Anything else escapes: libFuzzer reports it as a crash.
  check_config(*cfg);
  FUZZ_REQUIRE(load_service_config(path).policy.version()
               == cfg->policy.version());
  return 0;
}
