// Every repository's prepared statements, declared on each new connection so
// that the service runs no ad-hoc SQL.

#include "persistence/analytics_repository.hpp"
#include "persistence/audit_export.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/batch_writes.hpp"
#include "persistence/checkpoint_repository.hpp"
#include "persistence/comment_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/decision_chain_reader.hpp"
#include "persistence/decision_repository.hpp"
#include "persistence/outbox_repository.hpp"
#include "persistence/pending_repository.hpp"
#include "persistence/token_repository.hpp"
#include "persistence/token_trail.hpp"

namespace hitl {

void prepare_statements(pqxx::connection_base& conn) {
  prepare_decision_statements(conn);
  prepare_analytics_statements(conn);
  prepare_audit_statements(conn);
  prepare_comment_statements(conn);
  prepare_token_statements(conn);
  prepare_outbox_statements(conn);
  prepare_pending_statements(conn);
  prepare_batch_statements(conn);
  prepare_decision_chain_statements(conn);
  prepare_checkpoint_statements(conn);
  prepare_export_statements(conn);
  prepare_token_trail_statements(conn);
}

} // namespace hitl
