#pragma once

#include "persistence/fwd.hpp"

#include <string>
#include <vector>

namespace hitl {

/// One numbered file of schema/, embedded into the binary at build time.
struct migration {
  int version;
  std::string name;
  std::string sql;
};

/// All migrations of schema/, in ascending version order.
const std::vector<migration>& embedded_migrations();

struct migration_report {
  std::vector<std::string> applied;
  int current_version = 0;
};

/// Applies every migration newer than the database's, each in its own
/// transaction, under a PostgreSQL advisory lock so that several nodes
/// starting together apply each one exactly once. Records each version in
/// `schema_migrations`. Throws db_error.
migration_report apply_migrations(const std::string& database_url);

} // namespace hitl
