#pragma once

#include "persistence/fwd.hpp"
#include "policy/timestamp.hpp"

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace hitl {

struct pool_options {
  std::string url;
  size_t min_size = 2;
  size_t max_size = 10;
  /// How long acquire() waits for a free connection before giving up (→ 503).
  duration acquire_timeout = std::chrono::seconds(2);
};

/// A bounded pool of PostgreSQL connections. Thread-safe; its calls block, so
/// only detached actors and command-line code may use it. A connection that
/// breaks is dropped, and the next acquire opens a fresh one, so the pool
/// heals by itself after PostgreSQL restarts.
class connection_pool {
public:
  explicit connection_pool(pool_options opts);
  ~connection_pool();

  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  /// Runs `fn` inside one read-write transaction and commits it. A transaction
  /// that fails because the connection broke before COMMIT is retried once on
  /// a fresh connection. Throws db_error.
  void transact(const std::function<void(pqxx::transaction_base&)>& fn);

  /// Like transact, for read-only work on one consistent snapshot.
  void read(const std::function<void(pqxx::transaction_base&)>& fn);

  /// For one read-only statement: autocommit, without the round trips of
  /// BEGIN and COMMIT.
  void read_once(const std::function<void(pqxx::transaction_base&)>& fn);

  /// For one writing statement in autocommit: it commits by itself, in one
  /// round trip. A connection lost meanwhile leaves it in doubt
  /// (db_errc::in_doubt), so it is never run twice.
  void write_once(const std::function<void(pqxx::transaction_base&)>& fn);

  /// True when a trivial query succeeds within the acquire timeout.
  bool ping() noexcept;

  /// Opens at least min_size connections; throws db_error when it cannot.
  void warm_up();

  /// Connections currently open (idle plus leased).
  size_t size() const;

  const pool_options& options() const {
    return opts_;
  }

private:
  struct slot;
  std::unique_ptr<slot> acquire();
  void release(std::unique_ptr<slot> s, bool broken);
  enum class mode { read_write, read_only, single_statement, single_write };
  void run(mode m, const std::function<void(pqxx::transaction_base&)>& fn);

  pool_options opts_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<slot>> idle_;
  size_t open_ = 0;
};

/// Applies the prepared statements of every repository to a new connection.
void prepare_statements(pqxx::connection_base& conn);

} // namespace hitl
