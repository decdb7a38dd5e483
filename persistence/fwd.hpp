#pragma once

// Forward declarations, so that headers of persistence/ name libpqxx types
// without pulling libpqxx into every includer.

namespace pqxx {
class connection_base;
class transaction_base;
} // namespace pqxx

namespace hitl {
class connection_pool;
struct db_error;
} // namespace hitl
