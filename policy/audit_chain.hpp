#pragma once

// The tamper-evident audit chain of SPEC §5. Each entry's hash covers the
// previous entry's hash and the entry's canonical JSON (seq included), so any
// change to a stored row, or to the order of rows, breaks a link.
// The chain needs no secret: it proves integrity against edits of the table,
// not against someone who rewrites every row from the edit point on, and it
// cannot notice rows removed from the end without a head recorded elsewhere.
//
// Several nodes write at once (SPEC §8), so there is one chain per
// partition: an entry's link names its partition, its place in that chain
// (pseq, dense from 1) and the epoch it was written under, and its hash
// covers them. The chain written before partitions existed is the common
// prefix: its entries have no link, their place is their seq, and each
// partition's first entry links to its last one.

#include "policy/decision.hpp"
#include "policy/partition.hpp"
#include "policy/timestamp.hpp"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

// -- entries ------------------------------------------------------------------

/// The `prev_hash` of the first entry.
inline constexpr std::string_view genesis_prev_hash
  = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry's place in its partition's chain.
struct chain_link {
  partition_id partition;
  /// Dense from 1 in the partition.
  int64_t pseq = 0;
  /// The fencing epoch the partition was held at when it was written.
  int64_t epoch = 0;
};

struct audit_entry {
  /// Unique, in commit order. An entry of the common prefix is the seq-th
  /// of the chain and its hash covers seq; a partition's entry gets its seq
  /// from the database when it is inserted (no longer dense), and its hash
  /// covers its link instead.
  int64_t seq = 0;
  /// None: an entry of the common prefix.
  std::optional<chain_link> link;
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
/// performed_by, seq, timestamp (`format_iso`) and user_agent; for an entry
/// of a partition, epoch, partition and pseq in place of seq. Details are
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

/// The last entry of a chain: where the next one attaches. `seq` is its
/// place: its seq in the common prefix, its pseq in a partition.
struct chain_head {
  int64_t seq = 0;
  std::string hash{genesis_prev_hash};
  friend bool operator==(const chain_head& a, const chain_head& b) {
    return a.seq == b.seq && a.hash == b.hash;
  }
  friend bool operator!=(const chain_head& a, const chain_head& b) {
    return !(a == b);
  }
};

/// Makes `entry` the next link after `head`, and `head` that link: its
/// place (seq, or its link's pseq when it has a link) is the one after
/// head's, its prev_hash head's hash, and it is sealed. The one way an entry
/// joins a chain, for every writer (the auditor's batches, in order, one
/// entry after the other; a token's entry).
void seal_next(chain_head& head, audit_entry& entry);

/// The heads of every chain: the common prefix's, and each partition's,
/// whose pseq 0 means nothing after the prefix (its hash is then the
/// prefix's).
struct chain_heads {
  chain_head prefix;
  std::array<chain_head, partition_count> partitions;

  /// Every partition's head at the end of `prefix`.
  static chain_heads after_prefix(const chain_head& prefix);

  /// Entries in all chains: the prefix's and every partition's.
  int64_t count() const;

  friend bool operator==(const chain_heads& a, const chain_heads& b) {
    return a.prefix == b.prefix && a.partitions == b.partitions;
  }
};

/// One hash for all heads (what a checkpoint signs and verify reports):
/// SHA-256, in lowercase hex, of the text "prefix <seq> <hash>\n" followed
/// by "<partition> <pseq> <hash>\n" for each partition whose pseq is not 0,
/// in partition order.
std::string chains_root(const chain_heads& heads);

// -- verification -------------------------------------------------------------

enum class break_kind : uint8_t {
  altered = 1,
  removed,
  inserted_or_reordered,
};

std::string_view to_string(break_kind k);

/// The first place where the chain stops proving itself.
struct chain_break {
  /// The seq of the entry named as bad (for `removed`: the entry after the
  /// gap).
  int64_t seq = 0;
  break_kind kind = break_kind::altered;
  std::string message;
};

/// Checks one chain fed in order of place (seq in the prefix, pseq in a
/// partition), one entry at a time, so that a caller can stream rows from
/// the database in pages.
class chain_verifier {
public:
  /// The common prefix, from the genesis hash.
  chain_verifier() = default;

  /// Partition `p`'s chain, whose first entry links to `prefix_end`.
  chain_verifier(partition_id p, const chain_head& prefix_end);

  /// Checks the next entry; returns the break it reveals, if any. After a
  /// break the verifier resynchronises on `entry`, so feeding on may reveal
  /// further breaks, but only the first is named precisely.
  std::optional<chain_break> feed(const audit_entry& entry);

  /// Entries fed so far.
  int64_t checked() const {
    return checked_;
  }

  /// The place and hash of the last entry fed (where it started, before).
  chain_head last() const {
    return {last_pos_, last_hash_};
  }

  /// The seq of the last entry fed (0 before any).
  int64_t last_seq() const {
    return last_seq_of_last_;
  }

private:
  // "entry 12" in the prefix, "partition 7 entry 3" in a partition.
  std::string name(int64_t place) const;

  std::optional<partition_id> partition_;
  int64_t checked_ = 0;
  int64_t last_pos_ = 0;
  int64_t last_seq_of_last_ = 0;
  int64_t expected_pos_ = 1;
  std::string last_hash_{genesis_prev_hash};
  // Hash of the entry before the last, to recognise an inserted entry.
  std::optional<std::string> before_last_hash_;
  // The last entry's stored hash did not match its content, so it cannot
  // vouch for the link of the next entry (its break is already reported).
  bool last_stale_ = false;
};

/// Checks the prefix and every partition's chain, fed all entries in seq
/// order (the order they were committed in, so within a chain seq grows
/// with the place: rows whose seq was changed to reorder them come out of
/// place). The prefix ends where the first entry of a partition comes.
class chains_verifier {
public:
  /// As chain_verifier::feed, for the entry's own chain; also a break when
  /// an entry of the prefix comes after the prefix ended.
  std::optional<chain_break> feed(const audit_entry& entry);

  int64_t checked() const {
    return checked_;
  }

  /// The chains' heads as fed so far.
  chain_heads heads() const;

  /// The seq of partition `p`'s last entry fed, or of the prefix's last
  /// entry when none of `p` was (0 for none at all).
  int64_t last_seq(partition_id p) const;

private:
  chain_verifier prefix_;
  bool prefix_closed_ = false;
  chain_head prefix_end_;
  std::array<std::optional<chain_verifier>, partition_count> partitions_;
  int64_t checked_ = 0;
};

} // namespace hitl
