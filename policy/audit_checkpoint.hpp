#pragma once

// A signed checkpoint of the audit chain's head (SPEC §11): what the chain
// looked like at a moment, vouched for by the operator's key. Kept outside
// the database, it contradicts a chain that was re-sealed from any point or
// cut short after it was signed.
//
// With a chain per partition (SPEC §8) a checkpoint holds every chain's
// head and signs their root (chains_root): `hash` is the root, `heads` the
// heads it is the root of. A checkpoint of the single chain from before
// partitions existed has no heads: `hash` is the hash of the entry at `seq`.

#include "policy/audit_chain.hpp"
#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

class signing_key;
class verify_key;

struct audit_checkpoint {
  /// Without heads, the seq of the chain's last entry; with heads, the
  /// highest seq committed when it was signed (which entries an export
  /// must hold for the checkpoint to concern it).
  int64_t seq = 0;
  /// Without heads, that entry's hash; with heads, their chains_root.
  std::string hash;
  /// When it was signed.
  timestamp at;
  /// Entries in the chain up to and including `seq`; with heads, in all
  /// chains (heads->count()).
  int64_t count = 0;
  /// Every chain's head, for a checkpoint of the per-partition chains.
  std::optional<chain_heads> heads;
  /// `verify_key::key_id` of the signer.
  std::string key_id;
  /// Base64 Ed25519 signature of `signed_bytes(*this)`.
  std::string signature;
};

/// The bytes that are signed: the compact JSON object, keys sorted, of
/// at (`format_iso`), count, hash, key_id and seq, e.g.
/// `{"at":"2026-12-02T20:15:00.123456Z","count":42,"hash":"5f0c…",`
/// `"key_id":"0a1b2c3d4e5f6071","seq":42}`; Python's
/// `json.dumps(o, sort_keys=True, separators=(",", ":"))` writes the same.
/// With heads, also `"heads":[[partition,pseq,hash],…]` (the partitions
/// whose pseq is not 0, in order) and `"prefix":[seq,hash]`.
std::string signed_bytes(const audit_checkpoint& c);

/// `{"heads":…,"prefix":…}` as in signed_bytes: how the database keeps a
/// checkpoint's heads.
std::string heads_json(const chain_heads& heads);

/// Reads heads_json's form (or a line holding those members); the error
/// says what is wrong.
struct parsed_heads {
  std::optional<chain_heads> heads;
  std::string error;
};
parsed_heads parse_heads_json(std::string_view text);

/// Fills key_id and signature.
void sign_checkpoint(audit_checkpoint& c, const signing_key& key);

/// Why `c` does not verify with `key` (another key id, a bad signature, or
/// heads whose root or count is not the checkpoint's), or nothing when it
/// does.
std::optional<std::string> checkpoint_fault(const audit_checkpoint& c,
                                            const verify_key& key);

/// One line of a checkpoint file (no newline): the members of
/// `signed_bytes` plus signature, keys sorted, compact.
std::string to_json_line(const audit_checkpoint& c);

/// Reads a line of `to_json_line`'s form; other members are ignored (an
/// export's line carries `"type":"checkpoint"`). The error says what is
/// wrong with it.
struct parsed_checkpoint {
  std::optional<audit_checkpoint> checkpoint;
  std::string error;
};
parsed_checkpoint parse_checkpoint_line(std::string_view line);

} // namespace hitl
