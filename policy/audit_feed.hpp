#pragma once

// What the cluster feed reads (SPEC §8, "Reads across nodes"): the audit
// entries committed after the positions a node has seen, partition by
// partition, with the decisions they are about. Every node reads every
// partition's entries, its own included, so that what it shows does not
// depend on which node wrote.

#include "policy/decision.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

/// The place of an entry in its partition's chain: nothing is seen yet at
/// pseq 0.
struct feed_position {
  int partition = 0;
  int64_t pseq = 0;
};

/// "<partition>:<pseq>", as X-HITL-Position carries it.
std::string to_string(feed_position p);
/// Parses "<partition>:<pseq>"; nullopt unless 0 ≤ partition < 256 and
/// 0 ≤ pseq, in plain decimal.
std::optional<feed_position> parse_feed_position(std::string_view text);

/// One committed audit entry of a partition.
struct feed_entry {
  int partition = 0;
  int64_t pseq = 0;
  audit_action action = audit_action::created;
  /// Empty for a token's entries.
  std::string decision_id;
  std::string performed_by;
  timestamp at;
  /// For `commented`: the comment, as hitl_comments holds it.
  std::optional<comment> added_comment;
  /// For `escalated`: the level it escalated to. The record a page comes
  /// with is the decision as it is now; an escalation is shown at its own
  /// level, or two read together would both show the later one.
  std::optional<int> level;
};

/// Reads after `known` (one position per partition; -1: nothing seen yet,
/// report the head only). `records`: with the records of the decisions the
/// entries name, for showing them; without, the entries alone.
struct feed_request {
  std::vector<int64_t> known;
  bool records = true;
};

/// A page of the feed: every partition's head (its chain_seq), the entries
/// after the positions asked for up to those heads, in chain order per
/// partition, and the current record of each decision they name (none
/// unless the request asked for them). `more`:
/// the page stopped at its limit; ask again from where it ended.
struct feed_page {
  std::vector<int64_t> heads;
  std::vector<feed_entry> entries;
  std::vector<decision_record> records;
  bool more = false;
};

/// The event a committed entry is published as ("decision.approved"), the
/// name lifecycle gives its change; nullopt for entries that publish none
/// (a first of two approvals, a token's entries).
std::optional<std::string_view> event_of(audit_action a);

/// Whether the entry makes its decision final (a long-poll's end).
bool is_final_action(audit_action a);

/// The decision as an entry left it, for the event the entry publishes.
/// A page comes with each decision as it is *now*; an entry read together
/// with later ones of its decision would otherwise show their outcome (a
/// `created` already approved, two escalations both at the later level).
/// What the entry itself names wins: `created` shows level 0 and no
/// approvals; `escalated` its own level. An entry that is not final shows
/// an open decision when the record has since been decided, except under
/// an auto-approval, which commits with its creation and is shown with it
/// on the node that made it too.
decision_record as_of_entry(const decision_record& now, const feed_entry& e);

} // namespace hitl
