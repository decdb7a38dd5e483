#include "persistence/connection_pool.hpp"

#include "persistence/db_error.hpp"

#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include <poll.h>

namespace hitl {

struct connection_pool::slot {
  explicit slot(const std::string& url) : conn(url) {
    prepare_statements(conn);
  }
  pqxx::connection conn;
};

namespace {

// True when the server has closed its end of the connection's socket.
bool peer_closed(const pqxx::connection_base& conn) {
  pollfd p{conn.sock(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

} // namespace

connection_pool::connection_pool(pool_options opts) : opts_(std::move(opts)) {
  if (opts_.max_size == 0)
    opts_.max_size = 1;
  if (opts_.min_size > opts_.max_size)
    opts_.min_size = opts_.max_size;
}

connection_pool::~connection_pool() = default;

void connection_pool::warm_up() {
  std::vector<std::unique_ptr<slot>> held;
  for (size_t i = 0; i < opts_.min_size; ++i)
    held.push_back(acquire());
  for (auto& s : held)
    release(std::move(s), false);
}

size_t connection_pool::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return open_;
}

std::unique_ptr<connection_pool::slot> connection_pool::acquire() {
  auto deadline = std::chrono::steady_clock::now() + opts_.acquire_timeout;
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    if (!idle_.empty()) {
      auto s = std::move(idle_.back());
      idle_.pop_back();
      return s;
    }
    if (open_ < opts_.max_size) {
      ++open_;
      lock.unlock();
      try {
        return std::make_unique<slot>(opts_.url);
      } catch (...) {
        lock.lock();
        --open_;
        cv_.notify_one();
        rethrow_as_db_error();
      }
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout
        && idle_.empty() && open_ >= opts_.max_size)
      throw db_error(db_errc::unavailable,
                     "no database connection became free in time");
  }
}

void connection_pool::release(std::unique_ptr<slot> s, bool broken) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (broken || !s->conn.is_open()) {
    // One broken link usually means the server restarted: the idle ones are
    // dead too, and handing them out would fail the next callers as well.
    open_ -= 1 + idle_.size();
    idle_.clear();
  } else {
    idle_.push_back(std::move(s));
  }
  cv_.notify_all();
}

void connection_pool::run(
  mode m, const std::function<void(pqxx::transaction_base&)>& fn) {
  for (int attempt = 0;; ++attempt) {
    auto s = acquire();
    bool sent = false; // a single write may have run
    try {
      if (m == mode::single_write) {
        // A connection the server closed while it sat idle (a restart) is
        // seen here, without a round trip and before anything is sent, when
        // running on a fresh one is still safe.
        if (peer_closed(s->conn))
          throw pqxx::broken_connection{"the server closed the connection"};
        sent = true;
      }
      if (m == mode::single_statement || m == mode::single_write) {
        pqxx::nontransaction txn{s->conn};
        fn(txn);
      } else if (m == mode::read_only) {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> txn{
          s->conn};
        fn(txn);
        txn.commit();
      } else {
        pqxx::work txn{s->conn};
        fn(txn);
        txn.commit();
      }
      release(std::move(s), false);
      return;
    } catch (const pqxx::in_doubt_error&) {
      release(std::move(s), true);
      rethrow_as_db_error();
    } catch (const pqxx::broken_connection& e) {
      release(std::move(s), true);
      if (sent)
        throw db_error(db_errc::in_doubt, e.what());
      // The transaction never committed, so running it again is safe.
      if (attempt == 0)
        continue;
      rethrow_as_db_error();
    } catch (...) {
      bool broken = !s->conn.is_open();
      release(std::move(s), broken);
      rethrow_as_db_error();
    }
  }
}

void connection_pool::transact(
  const std::function<void(pqxx::transaction_base&)>& fn) {
  run(mode::read_write, fn);
}

void connection_pool::write_once(
  const std::function<void(pqxx::transaction_base&)>& fn) {
  run(mode::single_write, fn);
}

void connection_pool::read(
  const std::function<void(pqxx::transaction_base&)>& fn) {
  run(mode::read_only, fn);
}

void connection_pool::read_once(
  const std::function<void(pqxx::transaction_base&)>& fn) {
  run(mode::single_statement, fn);
}

bool connection_pool::ping() noexcept {
  try {
    read([](pqxx::transaction_base& txn) { txn.exec("SELECT 1"); });
    return true;
  } catch (...) {
    return false;
  }
}

} // namespace hitl
