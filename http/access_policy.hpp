#pragma once

// Who may do what (SPEC §3): the role matrix as one pure function.

#include "policy/role.hpp"

#include <cstdint>

namespace hitl {

enum class operation : uint8_t {
  read_queue,    // GET /hitl/patches/pending
  verdict,       // approve, reject
  comment,       // POST .../comment
  create,        // POST /hitl/admin/create-decision
  cancel,        // POST .../cancel
  read_decision, // GET /hitl/decisions/{id}
  analytics,     // GET /hitl/analytics/summary
  audit_logs,    // GET /hitl/analytics/audit-logs
  verify_audit,  // GET /hitl/audit/verify
  event_stream,  // GET /hitl/ws
};

/// Reviewers read the queue and decide; services create, cancel and read
/// decisions; auditors read everything; admins do what services and
/// auditors do. Only reviewers decide: an admin cannot approve.
constexpr bool may(role r, operation op) {
  switch (op) {
    case operation::verdict:
    case operation::comment:
      return r == role::reviewer;
    case operation::create:
    case operation::cancel:
      return r == role::service || r == role::admin;
    case operation::read_decision:
    case operation::event_stream:
      return true;
    case operation::read_queue:
    case operation::analytics:
      return r == role::reviewer || r == role::auditor || r == role::admin;
    case operation::audit_logs:
    case operation::verify_audit:
      return r == role::auditor || r == role::admin;
  }
  return false;
}

} // namespace hitl
