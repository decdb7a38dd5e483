#include "policy/role.hpp"

namespace hitl {

std::string_view to_string(role r) {
  switch (r) {
    case role::reviewer:
      return "reviewer";
    case role::service:
      return "service";
    case role::auditor:
      return "auditor";
    case role::admin:
      return "admin";
  }
  return "unknown";
}

std::optional<role> parse_role(std::string_view s) {
  for (auto r : {role::reviewer, role::service, role::auditor, role::admin})
    if (to_string(r) == s)
      return r;
  return std::nullopt;
}

} // namespace hitl
