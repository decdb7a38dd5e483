#pragma once

#include <string>
#include <string_view>

namespace hitl {

/// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Lowercase hex HMAC-SHA256 of `data` keyed with `key` (webhook signatures).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Compares two strings in time independent of where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

} // namespace hitl
