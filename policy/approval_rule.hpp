#pragma once

// Which human verdicts a decision accepts (SPEC §1 and §2): the two-person
// rule, no self-approval, and the finality of every verdict. The patch actor
// asks these functions before it commits anything.

#include "policy/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hitl {

// -- errors -------------------------------------------------------------------

/// Why a verdict is refused. The HTTP layer maps `self_approval` to 403 and
/// the others to 409, except `reason_required`, which is 422.
enum class verdict_error : uint8_t {
  not_open = 1,
  self_approval,
  already_approved_by_reviewer,
  reason_required,
};

std::string_view to_string(verdict_error e);

/// Either a value or the rule that refused the action.
template <class T>
class outcome {
public:
  outcome(T value) : data_(std::move(value)) {
    // nop
  }

  outcome(verdict_error err) : data_(err) {
    // nop
  }

  explicit operator bool() const {
    return std::holds_alternative<T>(data_);
  }

  const T& value() const {
    return std::get<T>(data_);
  }

  const T* operator->() const {
    return &value();
  }

  verdict_error error() const {
    return std::get<verdict_error>(data_);
  }

private:
  std::variant<T, verdict_error> data_;
};

// -- checks -------------------------------------------------------------------

struct approval_outcome {
  /// True: this approval completes the quorum and the decision becomes
  /// `approved`; false: it is recorded as `approval_added` and the decision
  /// stays open.
  bool completes = false;
};

/// May `reviewer` approve `rec`? Checked in this order: the decision is
/// open, the reviewer is not its creator, the reviewer has not approved it
/// yet.
outcome<approval_outcome> check_approval(const decision_record& rec,
                                         const std::string& reviewer);

/// May `rec` be rejected with `reason`? One rejection is final, whatever
/// approvals came before. A blank reason (only whitespace) is refused.
std::optional<verdict_error> check_rejection(const decision_record& rec,
                                             const std::string& reason);

/// May `rec` be cancelled?
std::optional<verdict_error> check_cancel(const decision_record& rec);

} // namespace hitl
