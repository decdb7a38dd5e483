#pragma once

// The checkpoint signing key on disk (`hitl key create --out FILE`,
// `audit.signing_key`): a PEM file that only its owner may read.

#include "policy/checkpoint_signature.hpp"

#include <string>

namespace hitl {

/// Writes `key`'s private PEM to a new file of mode 0600; refuses an
/// existing path (O_EXCL). @throws signature_error naming the path.
void write_new_key_file(const std::string& path, const signing_key& key);

/// Reads an Ed25519 private key's PEM. @throws signature_error naming the
/// path when it is unreadable or not such a key.
signing_key read_key_file(const std::string& path);

/// Reads a public (or private) key's PEM, for verifying.
/// @throws signature_error as read_key_file.
verify_key read_public_key_file(const std::string& path);

} // namespace hitl
