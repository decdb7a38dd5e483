#pragma once

// The HTTP edge's validation: every body and query string is parsed once,
// here, into domain values, or refused with field-level errors. Pure: no
// RESTinio, no actors, so it is tested without a server.

#include "policy/decision.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace hitl {

struct field_error {
  std::string field;   // JSON path, e.g. "patch_metadata.severity"
  std::string message; // for a person, e.g. "must be one of low, medium, ..."
};

/// Why a request was refused: 400 (malformed JSON, bad query) or 422
/// (well-formed but invalid), with a one-line detail and the field errors.
struct request_error {
  int status = 422;
  std::string detail;
  std::vector<field_error> errors;
};

template <class T>
using parsed = std::variant<T, request_error>;

using query_params = std::vector<std::pair<std::string, std::string>>;

// -- bodies -------------------------------------------------------------------

/// POST /hitl/admin/create-decision: the record as the original Wargaming
/// client sends it (SPEC §3).
parsed<new_decision> parse_create_decision(std::string_view body);

struct approve_body {
  std::optional<std::string> decision_id;
  std::optional<std::string> comment;
};
parsed<approve_body> parse_approve(std::string_view body);

struct reject_body {
  std::optional<std::string> decision_id;
  std::string reason;
  std::optional<std::string> comment;
};
parsed<reject_body> parse_reject(std::string_view body);

struct comment_body {
  std::optional<std::string> decision_id;
  std::string comment;
};
parsed<comment_body> parse_comment(std::string_view body);

struct cancel_body {
  std::optional<std::string> decision_id;
  std::optional<std::string> reason;
};
parsed<cancel_body> parse_cancel(std::string_view body);

// -- query strings ------------------------------------------------------------

struct pending_query {
  int limit = 50;
  std::optional<std::string> cursor;
  std::optional<urgency> priority;
  std::optional<urgency> severity;
  pending_sort sort = pending_sort::priority;
};
parsed<pending_query> parse_pending_query(const query_params& q);

struct audit_query {
  std::optional<std::string> decision_id;
  std::optional<audit_action> action;
  std::optional<std::string> performed_by;
  std::optional<timestamp> since;
  std::optional<timestamp> until;
  int limit = 100;
  /// Entries with seq greater than this (the cursor of the previous page).
  std::optional<int64_t> after_seq;
};
parsed<audit_query> parse_audit_query(const query_params& q);

struct summary_query {
  std::optional<timestamp> since;
  std::optional<timestamp> until;
};
parsed<summary_query> parse_summary_query(const query_params& q);

/// GET /hitl/audit/export?since&until&format (jsonl or csv).
struct export_query {
  std::optional<timestamp> since;
  std::optional<timestamp> until;
  bool csv = false;
};
parsed<export_query> parse_export_query(const query_params& q);

/// GET /hitl/decisions/{id}?wait=N: seconds to long-poll, 0 to 60.
parsed<int> parse_wait_query(const query_params& q);

/// A decision id as SPEC §1 allows: 1–255 of [A-Za-z0-9._:-].
bool valid_decision_id(std::string_view id);

// -- path parameters ----------------------------------------------------------

enum class path_id_kind : uint8_t {
  decision_id, ///< valid_decision_id
  patch_id,    ///< what a created decision's patch_id may be
  file_name,   ///< a file of the web UI (its lookup decides the rest)
};

/// A path parameter as RESTinio's router hands it: still percent-encoded
/// (only the unreserved characters of RFC 3986 are decoded), or raw bytes a
/// client sent unencoded. Decodes it and returns the id when it follows the
/// body's rules for `kind` (SPEC §10: 1–255 characters of valid UTF-8, no
/// control characters, and the id's own rules); std::nullopt means 404.
std::optional<std::string> parse_path_id(std::string_view raw,
                                         path_id_kind kind);

// -- client text --------------------------------------------------------------

/// Client text made safe to echo in a problem's detail: each byte that is
/// not valid UTF-8 and each control character written as \xNN, and cut
/// after `max_chars` characters with "...". The result is valid UTF-8, so
/// no JSON writer can refuse it.
std::string echoable_text(std::string_view raw, size_t max_chars);

/// A header's text as it may be stored and put into JSON: at most
/// `max_bytes`, cut at a character boundary, with every byte that is not
/// part of valid UTF-8 and every control character (C0, DEL, C1) replaced
/// by U+FFFD.
/// (Clients send what they like in User-Agent.)
std::string storable_text(std::string_view raw, size_t max_bytes);

} // namespace hitl
