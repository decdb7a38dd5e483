#include "persistence/pipelined_writer.hpp"

#include "persistence/db_error.hpp"

#include <libpq-fe.h>

#include <poll.h>

#include <array>
#include <cerrno>

namespace hitl {

namespace {

constexpr int param_count = 8;
// Given, because a statement without some parts does not read their
// arrays: json (OID 114) five times, bigint (20), bigint, text (25).
constexpr std::array<Oid, param_count> param_types{114, 114, 114, 114,
                                                   114, 20,  20,  25};

std::string statement_name(batch_parts parts) {
  return "batch_write_" + std::to_string(parts);
}

} // namespace

pipelined_writer::pipelined_writer(const std::string& url) {
  conn_ = PQconnectdb(url.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn_);
    PQfinish(conn_);
    throw db_error(db_errc::unavailable, why);
  }
  // One statement per combination of parts, all prepared here: there are
  // 32, and one prepared inside the pipeline would add a result to tell
  // apart from the batches'.
  bool prepared = true;
  std::string why;
  for (batch_parts parts = 0; parts <= batch_part::all && prepared; ++parts) {
    PGresult* r = PQprepare(conn_, statement_name(parts).c_str(),
                            batch_write_sql(parts).c_str(), param_count,
                            param_types.data());
    prepared = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!prepared)
      why = PQresultErrorMessage(r);
    PQclear(r);
  }
  if (!prepared || PQenterPipelineMode(conn_) != 1
      || PQsetnonblocking(conn_, 1) != 0) {
    if (why.empty())
      why = PQerrorMessage(conn_);
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
  auto p = batch_write_params(rows);
  auto seq = p.after_seq ? std::to_string(*p.after_seq) : std::string{};
  std::array<const char*, param_count> values{};
  for (size_t i = 0; i < p.values.size(); ++i)
    values[i] = p.values[i].c_str();
  values[6] = p.after_seq ? seq.c_str() : nullptr;
  values[7] = p.after_seq ? p.after_hash.c_str() : nullptr;
  if (PQsendQueryPrepared(conn_, statement_name(p.parts).c_str(), param_count, values.data(),
                          nullptr, nullptr, 0)
        != 1
      || PQpipelineSync(conn_) != 1)
    lost("sending a batch");
  ++in_flight_;
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
        if (!pending_)
          throw db_error(db_errc::internal, "a batch ended without a result");
        auto done = std::move(*pending_);
        pending_.reset();
        return done;
      }
      if (status == PGRES_TUPLES_OK && PQntuples(r) == 1) {
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
