#pragma once

// The tamper-evident audit chain of SPEC §5. Each entry's hash covers the
// previous entry's hash and the entry's canonical JSON (seq included), so any
// change to a stored row, or to the order of rows, breaks a link.
// The chain needs no secret: it proves integrity against edits of the table,
// not against someone who rewrites every row from the edit point on, and it
// cannot notice rows removed from the end without a head recorded elsewhere.

#include "policy/decision.hpp"
#include "policy/timestamp.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

// -- entries ------------------------------------------------------------------

/// The `prev_hash` of the first entry.
inline constexpr std::string_view genesis_prev_hash
  = "0000000000000000000000000000000000000000000000000000000000000000";

struct audit_entry {
  int64_t seq = 0;
  /// Empty for a token's entry (`is_token_action`), which belongs to no
  /// decision: NULL in the table, null in the canonical JSON.
  std::string decision_id;
  audit_action action = audit_action::created;
  std::string performed_by;
  timestamp at;
  /// A JSON object as text, in the form `canonical_details` writes (seal()
  /// hashes it as it is).
  std::string details_json = "{}";
  std::optional<std::string> ip_address;
  std::optional<std::string> user_agent;
  std::string prev_hash;
  std::string hash;
};

/// Compact JSON with sorted keys: the form in which details are stored.
std::string canonical_details(const nlohmann::json& details);

/// The text that the entry's hash covers: a compact JSON object with sorted
/// keys action, decision_id (null when empty), details, ip_address,
/// performed_by, seq, timestamp (`format_iso`) and user_agent. Details are
/// re-parsed, so a store that reformats them (e.g. `jsonb`) does not break
/// the chain.
/// @throws std::invalid_argument if `details_json` is not a JSON object.
std::string canonical_json(const audit_entry& entry);

/// SHA-256 of `prev_hash` followed by `canonical`, in lowercase hex.
std::string compute_hash(std::string_view prev_hash,
                         std::string_view canonical);

/// Links `entry` after the entry whose hash is `prev_hash`. Its
/// `details_json` must be canonical, as `canonical_details` writes it: it is
/// hashed as it is, where the verifier re-parses what the store returns.
void seal(audit_entry& entry, std::string_view prev_hash);

/// The last entry of the chain: where the next one attaches.
struct chain_head {
  int64_t seq = 0;
  std::string hash{genesis_prev_hash};
};

/// Makes `entry` the next link after `head`, and `head` that link: its seq
/// is the one after head's, its prev_hash head's hash, and it is sealed. The
/// one way an entry joins the chain, for every writer (the auditor's
/// batches, in order, one entry after the other; a token's entry).
void seal_next(chain_head& head, audit_entry& entry);

// -- verification -------------------------------------------------------------

enum class break_kind : uint8_t {
  altered = 1,
  removed,
  inserted_or_reordered,
};

std::string_view to_string(break_kind k);

/// The first place where the chain stops proving itself.
struct chain_break {
  /// The entry named as bad (for `removed`: the entry after the gap).
  int64_t seq = 0;
  break_kind kind = break_kind::altered;
  std::string message;
};

/// Checks a chain fed in ascending seq order, one entry at a time, so that a
/// caller can stream rows from the database in pages.
class chain_verifier {
public:
  /// Checks the next entry; returns the break it reveals, if any. After a
  /// break the verifier resynchronises on `entry`, so feeding on may reveal
  /// further breaks, but only the first is named precisely.
  std::optional<chain_break> feed(const audit_entry& entry);

  /// Entries fed so far.
  int64_t checked() const {
    return checked_;
  }

  /// Hash of the last entry fed, or the genesis hash.
  std::string head() const {
    return last_hash_;
  }

private:
  int64_t checked_ = 0;
  int64_t expected_seq_ = 1;
  int64_t last_seq_ = 0;
  std::string last_hash_{genesis_prev_hash};
  // Hash of the entry before the last, to recognise an inserted entry.
  std::optional<std::string> before_last_hash_;
  // The last entry's stored hash did not match its content, so it cannot
  // vouch for the link of the next entry (its break is already reported).
  bool last_stale_ = false;
};

} // namespace hitl
