#pragma once

// A signed checkpoint of the audit chain's head (SPEC §11): what the chain
// looked like at a moment, vouched for by the operator's key. Kept outside
// the database, it contradicts a chain that was re-sealed from any point or
// cut short after it was signed.

#include "policy/timestamp.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

class signing_key;
class verify_key;

struct audit_checkpoint {
  /// The seq of the chain's last entry.
  int64_t seq = 0;
  /// That entry's hash.
  std::string hash;
  /// When it was signed.
  timestamp at;
  /// Entries in the chain up to and including `seq`.
  int64_t count = 0;
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
std::string signed_bytes(const audit_checkpoint& c);

/// Fills key_id and signature.
void sign_checkpoint(audit_checkpoint& c, const signing_key& key);

/// Why `c` does not verify with `key` (another key id, or a bad
/// signature), or nothing when it does.
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
