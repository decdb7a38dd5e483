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
};

std::string_view to_string(service_errc e);

/// A caf::error in our category, carrying a human-readable detail.
caf::error make_service_error(service_errc code, std::string detail);

struct db_error;

/// The service's answer to a database failure: the code the layers above
/// act on, with a detail written here. PostgreSQL's text (constraint names,
/// row values, SQL) goes to the log only, never into a response (SPEC §10).
/// The one mapping from db_errc to service_errc, for writer and readers.
caf::error to_service_error(const db_error& e);

/// Our code for any caf::error; timeouts and dead actors are `unavailable`.
service_errc service_code(const caf::error& err);

/// The detail given to make_service_error, or a description of a CAF error.
std::string service_detail(const caf::error& err);

} // namespace hitl
