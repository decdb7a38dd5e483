#pragma once

// The `--config FILE` of SPEC §7. Every key is optional; a key we do not know
// or a value of the wrong type stops the start, naming the key, because a
// silently ignored typo in a policy threshold is worse than no start.

#include "http/edge_limits.hpp"
#include "policy/service_settings.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace hitl {

/// A config error; `what()` starts with the key path, as in
/// `sla_seconds.critical: expected a number or null`.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// The whole file: what the actors take (service_settings, a layer below),
/// and the HTTP edge's settings.
struct service_config : service_settings {
  std::vector<std::string> cors_origins;
  size_t max_body_bytes = 1048576;
  /// SPEC §10: the bounds of the HTTP edge (`limits` in the file).
  edge_limits limits;
};

/// Reads a parsed config document.
/// @throws config_error naming the first offending key.
service_config parse_service_config(const nlohmann::json& doc);

/// Reads and parses the file at `path`: the only I/O of the policy code.
/// @throws config_error if the file is unreadable, not JSON or invalid.
service_config load_service_config(const std::string& path);

} // namespace hitl
