#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hitl {

/// The closed set of database failures the layers above distinguish. Every
/// libpqxx exception is translated into one of these inside persistence/.
enum class db_errc : uint8_t {
  /// Cannot reach PostgreSQL, or no connection became free in time (→ 503).
  unavailable = 1,
  /// A uniqueness or exclusion rule refused the write (→ 409).
  conflict,
  /// A CHECK, NOT NULL or foreign key refused the write (→ 422 or a bug).
  constraint,
  /// Serialization failure or deadlock: safe to retry.
  retry,
  /// The commit's outcome is unknown (connection lost during COMMIT).
  in_doubt,
  /// Anything else: a bug or a schema mismatch (→ 500).
  internal,
};

std::string_view to_string(db_errc e);

struct db_error : std::runtime_error {
  db_error(db_errc c, const std::string& what)
    : std::runtime_error(what), code(c) {
  }
  db_errc code;
};

/// The audit log no longer ends where an append was sealed: another writer
/// (`hitl token create|revoke`, another serve) appended meanwhile, and the
/// chain guard (HT412) or the seq key refused the append. Nothing was
/// written: seal again after the new head and retry. A conflict to anyone
/// who does not tell it apart.
struct chain_moved : db_error {
  explicit chain_moved(const std::string& what)
    : db_error(db_errc::conflict, what) {
  }
};

/// The write was fenced: the node no longer holds a partition it wrote to
/// at the epoch it named (hitl_advance_chains, HT410; SPEC §8). Nothing was
/// written.
/// To a client the service is unavailable there (503): another node owns
/// the patch now.
struct partition_fenced : db_error {
  explicit partition_fenced(const std::string& what)
    : db_error(db_errc::unavailable, what) {
  }
};

/// Rethrows the exception in flight as a db_error. Call only inside a catch.
[[noreturn]] void rethrow_as_db_error();

} // namespace hitl
