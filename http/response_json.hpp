#pragma once

// JSON bodies of the read endpoints, and the opaque pagination cursors.

#include "policy/audit_chain.hpp"
#include "policy/decision.hpp"
#include "policy/decision_summary.hpp"
#include "policy/pending_queue.hpp"

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace hitl {

struct field_error;

/// An RFC 9457 problem document.
nlohmann::json problem(int status, const std::string& detail,
                       const std::vector<field_error>& errors);

/// Compact JSON text of a document, which never throws: a string that is
/// not valid UTF-8 (text from a client or from the database) is written
/// with U+FFFD for each bad byte instead of making nlohmann throw.
std::string json_body(const nlohmann::json& doc);

/// The problem document as its text (json_body of problem()).
std::string problem_body(int status, const std::string& detail,
                         const std::vector<field_error>& errors = {});

/// A page of the pending queue, rendered but for the fields that change with
/// time alone, so that a cached page costs one concatenation per response.
struct rendered_pending {
  struct item {
    std::string fixed; // a JSON object without age_seconds and sla_status
    timestamp created_at;
    std::optional<timestamp> sla_deadline;
  };
  std::vector<item> items;
  int64_t total = 0;
  std::string next_cursor; // JSON: a string or null
};

rendered_pending render_pending(const pending_page& page, pending_sort sort);

/// The pending queue as of `at`: the original PendingPatch fields plus SLA
/// status, escalation level, deadline and age.
std::string pending_body(const rendered_pending& page, timestamp at);

/// A decision with its approvals, comments and audit trail: the record's
/// text (record_json) with `comments` and `audit_trail` after its members.
std::string decision_view_body(const decision_record& rec,
                               const std::vector<comment>& comments,
                               const std::string& audit_trail_json);

nlohmann::json summary_json(const decision_summary& s);

nlohmann::json audit_page_json(const std::vector<audit_entry>& entries,
                               int limit);

std::string encode_cursor(const pending_cursor& c, pending_sort sort);

/// std::nullopt when the text is not a cursor of this sort.
std::optional<pending_cursor> decode_cursor(const std::string& text,
                                            pending_sort sort);

} // namespace hitl
