#pragma once

// Here, not in policy/, because it needs the whole of nlohmann/json in a
// header: policy/'s headers only forward-declare it (json_fwd.hpp).

#include <nlohmann/json.hpp>

#include <optional>

namespace hitl {

/// The value as JSON, or null when absent.
template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

} // namespace hitl
