#include "policy/delivery_rules.hpp"

#include <algorithm>

namespace hitl {

std::string_view to_string(delivery_outcome o) {
  switch (o) {
    case delivery_outcome::delivered:
      return "delivered";
    case delivery_outcome::retry:
      return "retry";
    case delivery_outcome::dead:
      return "dead";
  }
  return "dead";
}

delivery_outcome classify_delivery(bool answered, long status) {
  if (!answered)
    return delivery_outcome::retry;
  if (status >= 200 && status < 300)
    return delivery_outcome::delivered;
  if (status == 408 || status == 429 || status >= 500)
    return delivery_outcome::retry;
  return delivery_outcome::dead;
}

duration retry_delay(duration initial, duration max, int attempts,
                     double jitter) {
  int exponent = std::clamp(attempts - 1, 0, 30);
  double base = static_cast<double>(initial.count())
                * static_cast<double>(int64_t{1} << exponent);
  base = std::min(base, static_cast<double>(max.count()));
  jitter = std::clamp(jitter, 0.0, 1.0);
  return duration{static_cast<int64_t>(base * (0.5 + 0.5 * jitter))};
}

} // namespace hitl
