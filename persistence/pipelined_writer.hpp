#pragma once

// The auditor's batches over one connection in libpq's pipeline mode: the
// next batch is at the server before the previous one's answer is read, so
// the server goes from one batch to the next without waiting for the
// auditor to collect an answer, seal the next entries and send them. Each
// batch is its own autocommit statement ("batch_write"), and its chain guard
// (migration 013) makes it write nothing unless the one before it did.
// libpqxx 6.4 has no pipeline mode, hence plain libpq here.

#include "persistence/batch_writes.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <variant>

struct pg_conn;

namespace hitl {

class pipelined_writer {
public:
  /// Connects. Throws db_error (unavailable) when the server cannot be
  /// reached.
  explicit pipelined_writer(const std::string& url);
  ~pipelined_writer();
  pipelined_writer(const pipelined_writer&) = delete;
  pipelined_writer& operator=(const pipelined_writer&) = delete;

  /// Sends a batch behind the ones in flight. Throws db_error (in_doubt):
  /// the connection is lost, and with it the outcome of every batch in
  /// flight.
  void send(const batch_rows& rows);

  size_t in_flight() const {
    return in_flight_;
  }

  /// True when the server has closed the connection (a restart while it sat
  /// idle): found without a round trip, so that nothing is sent into it.
  bool closed_by_server() const;

  /// The server refused the batch and wrote none of it.
  struct refused {
    std::string sqlstate; // HT409, HT412, 23505, ...
    std::string message;
  };
  /// decision_id -> new version of each update: the batch is committed.
  using written = std::unordered_map<std::string, int64_t>;
  using outcome = std::variant<written, refused>;

  /// The outcome of the oldest batch in flight, or std::nullopt if it has
  /// not arrived within `wait`. Throws db_error (in_doubt) when the
  /// connection is lost.
  std::optional<outcome> next(std::chrono::microseconds wait);

private:
  [[noreturn]] void lost(const char* what);

  pg_conn* conn_ = nullptr;
  size_t in_flight_ = 0;
  // The oldest batch's result, read before its sync point arrives.
  std::optional<outcome> pending_;
  // The batch statements prepared on the connection, or on their way: each
  // is prepared in the pipeline, ahead of the first batch that needs it,
  // so that the kinds of rows that never meet cost nothing. There are
  // 2^kinds of them.
  std::unordered_set<batch_parts> prepared_;
  // For each batch in flight, oldest first: the statement prepared ahead
  // of it, if any.
  std::deque<std::optional<batch_parts>> preparing_;
  bool prepare_answered_ = false; // the oldest batch's prepare succeeded
};

} // namespace hitl
