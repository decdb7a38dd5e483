#include "persistence/db_error.hpp"

#include <pqxx/except>

namespace hitl {

std::string_view to_string(db_errc e) {
  switch (e) {
    case db_errc::unavailable:
      return "unavailable";
    case db_errc::conflict:
      return "conflict";
    case db_errc::constraint:
      return "constraint";
    case db_errc::retry:
      return "retry";
    case db_errc::in_doubt:
      return "in_doubt";
    case db_errc::internal:
      return "internal";
  }
  return "internal";
}

void rethrow_as_db_error() {
  try {
    throw;
  } catch (const db_error&) {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    throw db_error(db_errc::in_doubt, e.what());
  } catch (const pqxx::broken_connection& e) {
    throw db_error(db_errc::unavailable, e.what());
  } catch (const pqxx::unique_violation& e) {
    throw db_error(db_errc::conflict, e.what());
  } catch (const pqxx::integrity_constraint_violation& e) {
    throw db_error(db_errc::constraint, e.what());
  } catch (const pqxx::transaction_rollback& e) {
    throw db_error(db_errc::retry, e.what());
  } catch (const pqxx::sql_error& e) {
    // Admin shutdown / cannot connect now (class 57P) behave like a lost link.
    const std::string& state = e.sqlstate();
    if (state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0)
      throw db_error(db_errc::unavailable, e.what());
    throw db_error(db_errc::internal, e.what());
  } catch (const std::exception& e) {
    throw db_error(db_errc::internal, e.what());
  }
}

} // namespace hitl
