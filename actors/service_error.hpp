#pragma once

// The closed set of failures the actors report; http/ maps each to a status.

#include <caf/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace hitl {

enum class service_errc : uint8_t {
  not_found = 1,     // 404
  conflict,          // 409: final decision, duplicate, stale state
  self_approval,     // 403
  invalid,           // 422
  unavailable,       // 503: database down or overloaded
  internal,          // 500
  /// Another node holds the patch's partition (SPEC §8): the router asks
  /// that node instead; 503 should it reach a client.
  moved,
};

std::string_view to_string(service_errc e);

/// A caf::error in our category, carrying a human-readable detail.
caf::error make_service_error(service_errc code, std::string detail);

enum class db_errc : uint8_t;
struct db_error;

/// What a database failure means to a client: the one mapping from db_errc
/// to service_errc, for the writer and the readers alike. Unreachable, in
/// doubt or to be retried: unavailable (503); a uniqueness rule: conflict;
/// a CHECK, NOT NULL or foreign key: invalid; anything else: internal.
service_errc service_errc_of(db_errc e);

/// The service's answer to a database failure: service_errc_of its code,
/// with a detail written here. PostgreSQL's text (constraint names, row
/// values, SQL) goes to the log only, never into a response (SPEC §10).
caf::error to_service_error(const db_error& e);

/// Our code for any caf::error; timeouts and dead actors are `unavailable`.
service_errc service_code(const caf::error& err);

/// The detail given to make_service_error, or a description of a CAF error.
std::string service_detail(const caf::error& err);

} // namespace hitl
