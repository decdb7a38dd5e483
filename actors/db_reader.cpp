#include "actors/db_reader.hpp"

#include "actors/atoms.hpp"
#include "actors/crypto_thread_state.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"
#include "actors/service_error.hpp"
#include "persistence/analytics_repository.hpp"
#include "persistence/audit_export.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/audit_verification.hpp"
#include "persistence/comment_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/decision_repository.hpp"
#include "persistence/feed_repository.hpp"
#include "persistence/pending_repository.hpp"
#include "persistence/token_repository.hpp"

#include <caf/all.hpp>

namespace hitl {

namespace {

// Runs a read; a database failure becomes a service error (503 when the
// database is unavailable), never an exception that would kill the worker.
enum class access { snapshot, single_statement, writes };

template <class T, class F>
caf::result<T> guarded_read(connection_pool& pool, F&& f,
                            access how = access::snapshot) {
  try {
    T out;
    auto run = [&](pqxx::transaction_base& txn) { out = f(txn); };
    switch (how) {
      case access::snapshot:
        pool.read(run);
        break;
      case access::single_statement:
        pool.read_once(run);
        break;
      case access::writes:
        pool.transact(run);
        break;
    }
    return out;
  } catch (const db_error& e) {
    return to_service_error(e);
  }
}

// Entries per read of the cluster feed: a node that fell behind catches up
// a page at a time, each a few milliseconds of PostgreSQL's time.
constexpr size_t feed_page_limit = 2000;

struct reader_state {
  static inline const char* name = "db_reader";
};

using reader_self = guarded_typed<reader_state, db_reader_actor>;

db_reader_actor::behavior_type
reader_worker(reader_self* self, connection_pool* pool,
              actor_failures failures) {
  // Nothing to put right: each read stands alone. Database failures are
  // answered above, without an exception; this is for the others.
  guard(self, std::move(failures), "reader");
  return {
    [pool](atoms::ping) -> bool { return pool->ping(); },
    // Holds this worker for as long as the client reads: the HTTP edge
    // admits one export at a time (limits.max_concurrent_scans).
    [pool](atoms::audit_export, export_request& r)
      -> caf::result<export_summary> {
      try {
        return write_audit_export(*pool, r.range, r.format, r.sink);
      } catch (const db_error& e) {
        return to_service_error(e);
      } catch (const export_aborted& e) {
        return make_service_error(service_errc::unavailable, e.what());
      }
    },
    [pool](atoms::get, const decision_ref& ref)
      -> caf::result<std::optional<decision_view>> {
      const auto& id = ref.decision_id;
      return guarded_read<std::optional<decision_view>>(
        *pool,
        [&](pqxx::transaction_base& txn) {
          std::optional<decision_view> view;
          std::vector<comment> comments;
          std::string trail;
          if (auto rec = find_decision_with_comments(txn, id, comments, trail))
            view = decision_view{std::move(*rec), std::move(comments),
                                 std::move(trail)};
          return view;
        },
        access::single_statement);
    },
    [pool](atoms::by_patch, const patch_ref& ref)
      -> caf::result<std::optional<decision_record>> {
      const auto& patch_id = ref.patch_id;
      return guarded_read<std::optional<decision_record>>(
        *pool, [&](pqxx::transaction_base& txn) {
          return find_latest_decision_by_patch(txn, patch_id);
        });
    },
    [pool](atoms::load_open, const partition_set& s)
      -> caf::result<std::vector<decision_record>> {
      return guarded_read<std::vector<decision_record>>(
        *pool, [&](pqxx::transaction_base& txn) {
          return load_open_decisions_in(txn, s.partitions);
        });
    },
    [pool](atoms::pending, const pending_filter& f) -> caf::result<pending_page> {
      return guarded_read<pending_page>(
        *pool,
        [&](pqxx::transaction_base& txn) { return list_pending(txn, f); },
        access::single_statement);
    },
    [pool](atoms::summary, const summary_request& r)
      -> caf::result<decision_summary> {
      return guarded_read<decision_summary>(
        *pool, [&](pqxx::transaction_base& txn) {
          return read_decision_summary(txn, r.since, r.until);
        });
    },
    [pool](atoms::audit, const audit_filter& f)
      -> caf::result<std::vector<audit_entry>> {
      return guarded_read<std::vector<audit_entry>>(
        *pool, [&](pqxx::transaction_base& txn) { return query_audit(txn, f); });
    },
    [pool](atoms::verify) -> caf::result<verification_report> {
      try {
        return verify_audit_trail(*pool);
      } catch (const db_error& e) {
        return to_service_error(e);
      }
    },
    [pool](atoms::tokens) -> caf::result<std::vector<token_info>> {
      return guarded_read<std::vector<token_info>>(
        *pool, [&](pqxx::transaction_base& txn) {
          return list_active_tokens(txn);
        },
        access::single_statement);
    },
    [pool](atoms::token, const token_lookup& lookup)
      -> caf::result<std::optional<token_info>> {
      const auto& token_hash = lookup.token_hash;
      return guarded_read<std::optional<token_info>>(
        *pool,
        [&](pqxx::transaction_base& txn) {
          auto found = find_active_token(txn, token_hash);
          if (found)
            touch_tokens(txn, {found->id});
          return found;
        },
        access::writes);
    },
    [pool](atoms::feed, const feed_request& r) -> caf::result<feed_page> {
      return guarded_read<feed_page>(*pool, [&](pqxx::transaction_base& txn) {
        return read_feed(txn, r, feed_page_limit);
      });
    },
    [pool](atoms::open_total) -> caf::result<int64_t> {
      return guarded_read<int64_t>(
        *pool,
        [&](pqxx::transaction_base& txn) { return count_open_decisions(txn); },
        access::single_statement);
    },
    // One statement for every token the edge saw used since the last flush.
    [pool](atoms::touch, const token_uses& uses) -> caf::result<size_t> {
      const auto& ids = uses.token_ids;
      return guarded_read<size_t>(
        *pool,
        [&](pqxx::transaction_base& txn) { return touch_tokens(txn, ids); },
        access::writes);
    },
  };
}

} // namespace

db_reader_actor spawn_db_reader(caf::actor_system& sys, connection_pool& pool,
                                size_t workers, actor_failures failures,
                                bool detached) {
  auto* p = &pool;
  auto workers_pool = caf::actor_pool::make(
    sys.dummy_execution_unit(), workers,
    [&sys, p, failures, detached] {
      auto a = caf::actor_cast<caf::actor>(
        detached ? sys.spawn<caf::detached>(reader_worker, p, failures)
                 : sys.spawn(reader_worker, p, failures));
      release_crypto_state_at_exit(a);
      return a;
    },
    caf::actor_pool::round_robin());
  // CAF 0.17's pool is untyped; every worker in it is a db_reader_actor,
  // and the pool only passes each message on to one of them.
  return caf::actor_cast<db_reader_actor>(std::move(workers_pool));
}

} // namespace hitl
