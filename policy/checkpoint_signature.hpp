#pragma once

// Ed25519 keys for the signed checkpoints of SPEC §11. A signature over a
// checkpoint proves who vouched for the chain head; whoever keeps the public
// key outside the database can then tell a re-sealed or shortened chain from
// the one that was signed. The key is the operator's, in a PEM file that the
// service reads at start; OpenSSL stays inside the .cpp.

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hitl {

/// A key was malformed, of another algorithm, or OpenSSL failed.
class signature_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// An Ed25519 public key: verifies signatures.
class verify_key {
public:
  /// Reads a `-----BEGIN PUBLIC KEY-----` PEM (a private key's PEM is
  /// accepted too, its public half is taken). @throws signature_error.
  static verify_key from_pem(std::string_view pem);

  /// True when `signature_b64` (base64 of 64 bytes) is this key's signature
  /// of exactly `message`.
  bool verify(std::string_view message,
              std::string_view signature_b64) const;

  /// Lowercase hex of the first 8 bytes of SHA-256 of the raw 32-byte key.
  const std::string& key_id() const {
    return key_id_;
  }

  /// The `PUBLIC KEY` PEM.
  std::string to_pem() const;

  struct impl;

private:
  std::shared_ptr<impl> impl_;
  std::string key_id_;
  friend class signing_key;
};

/// An Ed25519 private key: signs.
class signing_key {
public:
  /// A new random key. @throws signature_error.
  static signing_key generate();

  /// Reads a `PRIVATE KEY` PEM; refuses any algorithm but Ed25519.
  /// @throws signature_error.
  static signing_key from_pem(std::string_view pem);

  /// Base64 (RFC 4648, padded) of the 64-byte signature of `message`.
  std::string sign(std::string_view message) const;

  /// The unencrypted PKCS#8 `PRIVATE KEY` PEM.
  std::string to_pem() const;

  const verify_key& public_key() const {
    return public_;
  }

private:
  std::shared_ptr<verify_key::impl> impl_;
  verify_key public_;
};

} // namespace hitl
