#include "persistence/pipelined_writer.hpp"

#include "persistence/db_error.hpp"

#include <libpq-fe.h>

#include <poll.h>

#include <cerrno>

namespace hitl {

pipelined_writer::pipelined_writer(const std::string& url) {
  conn_ = PQconnectdb(url.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw db_error(db_errc::unavailable, why);
  }
  if (PQenterPipelineMode(conn_) != 1 || PQsetnonblocking(conn_, 1) != 0) {
    std::string why = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw db_error(db_errc::internal, "pipelined writer: " + why);
  }
}

pipelined_writer::~pipelined_writer() {
  PQfinish(conn_);
}

bool pipelined_writer::closed_by_server() const {
  pollfd p{PQsocket(conn_), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1
         && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void pipelined_writer::lost(const char* what) {
  throw db_error(db_errc::in_doubt,
                 std::string{what} + ": " + PQerrorMessage(conn_));
}

void pipelined_writer::send(const batch_rows& rows) {
  auto call = batch_call_for(rows);
  auto statement = batch_statement_for(call.parts);
  // A prepare that fails makes its batch fail: the batch is refused, and
  // the statement prepared again ahead of the next batch that needs it.
  std::optional<batch_parts> prepare;
  if (prepared_.insert(call.parts).second) {
    prepare = call.parts;
    if (PQsendPrepare(conn_, statement.name.c_str(), statement.text.c_str(),
                      static_cast<int>(statement.param_types.size()),
                      statement.param_types.data())
        != 1)
      lost("preparing a batch statement");
  }
  auto values = call.pointers();
  if (PQsendQueryPrepared(conn_, statement.name.c_str(),
                          static_cast<int>(values.size()), values.data(),
                          nullptr, nullptr, 0)
        != 1
      || PQpipelineSync(conn_) != 1)
    lost("sending a batch");
  ++in_flight_;
  preparing_.push_back(prepare);
  // Non-blocking: flush what the socket takes now; the rest goes out while
  // next() waits for answers.
  if (PQflush(conn_) < 0)
    lost("sending a batch");
}

std::optional<pipelined_writer::outcome>
pipelined_writer::next(std::chrono::microseconds wait) {
  if (in_flight_ == 0) // with nothing pending, libpq would return NULL forever
    throw db_error(db_errc::internal, "no batch in flight");
  auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (PQflush(conn_) < 0)
      lost("sending a batch");
    if (PQconsumeInput(conn_) != 1)
      lost("reading an answer");
    while (PQisBusy(conn_) == 0) {
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr)
        continue; // the end of one statement's results
      auto status = PQresultStatus(r);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        --in_flight_;
        auto prepared = preparing_.front();
        preparing_.pop_front();
        if (prepared && !prepare_answered_)
          prepared_.erase(*prepared);
        prepare_answered_ = false;
        if (!pending_)
          throw db_error(db_errc::internal, "a batch ended without a result");
        auto done = std::move(*pending_);
        pending_.reset();
        return done;
      }
      if (status == PGRES_COMMAND_OK) {
        prepare_answered_ = true; // only a prepare answers without rows
      } else if (status == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        pending_ = outcome{parse_written_versions(PQgetvalue(r, 0, 1))};
      } else if (status == PGRES_FATAL_ERROR) {
        const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        pending_ = outcome{refused{state ? state : "XX000",
                                   PQresultErrorMessage(r)}};
      } else if (status != PGRES_PIPELINE_ABORTED) {
        std::string what = PQresStatus(status);
        PQclear(r);
        throw db_error(db_errc::internal, "unexpected batch result " + what);
      }
      PQclear(r);
    }
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (PQflush(conn_) == 1)
      p.events |= POLLOUT;
    timespec ts{static_cast<time_t>(left.count() / 1000000),
                static_cast<long>(left.count() % 1000000) * 1000};
    if (ppoll(&p, 1, &ts, nullptr) < 0 && errno != EINTR)
      lost("waiting for an answer");
  }
}

} // namespace hitl
