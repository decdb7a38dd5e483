#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace hitl {

/// What a token's holder may do (SPEC §3): reviewers decide, services create
/// and cancel, auditors read everything, admins do what services and auditors
/// do, and cancel, but never decide.
enum class role : uint8_t { reviewer, service, auditor, admin };

std::string_view to_string(role r);
std::optional<role> parse_role(std::string_view s);

} // namespace hitl
