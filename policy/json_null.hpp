#pragma once

#include <nlohmann/json.hpp>

#include <optional>

namespace hitl {

/// The value as JSON, or null when absent.
template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

} // namespace hitl
