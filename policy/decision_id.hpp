#pragma once

#include "policy/timestamp.hpp"

#include <random>
#include <string>

namespace hitl {

/// A new decision's id when its creator gave none: a UUID of version 7
/// (RFC 9562), the Unix time in milliseconds at `at`, then random bits from
/// `rng`.
std::string new_decision_id(std::mt19937_64& rng, timestamp at);

} // namespace hitl
