#pragma once

// When a webhook delivery is done, retried or given up (SPEC §4): pure
// rules, so the notifier's timing is testable without a network.

#include "policy/timestamp.hpp"

#include <cstdint>
#include <string_view>

namespace hitl {

enum class delivery_outcome : uint8_t { delivered, retry, dead };

std::string_view to_string(delivery_outcome o);

/// 2xx is delivered. No answer (refused, timed out), 408, 429 and 5xx are
/// worth another attempt; any other status (a 4xx, a redirect) will not get
/// better by repeating, so the delivery is dead at once.
delivery_outcome classify_delivery(bool answered, long http_status);

/// Delay before attempt `attempts + 1`: initial · 2^(attempts-1), capped at
/// `max`, scaled by `jitter` in [0, 1) into [50 %, 100 %] of that, so that
/// retries of many deliveries spread out instead of arriving in waves.
duration retry_delay(duration initial, duration max, int attempts,
                     double jitter);

} // namespace hitl
