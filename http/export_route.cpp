// GET /hitl/audit/export: the audit trail streamed as JSON lines or CSV,
// one export at a time (SPEC §10).

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "http/actor_requests.hpp"
#include "http/query_strings.hpp"
#include "http/route_steps.hpp"
#include "http/routes.hpp"

#include <caf/error.hpp>

#include <future>
#include <mutex>

namespace hitl::routes {

namespace {

/// The export as it goes out: chunks come from a db_reader's thread, a
/// page of entries each, and each waits until RESTinio wrote it, so a slow
/// client slows the export down instead of filling memory. The headers go
/// with the first chunk: until then a failure is still a problem document.
/// A failure after it ends the stream with an error line, which no
/// verifier takes for part of the trail.
class export_stream {
public:
  export_stream(exchange_ptr ex, const char* content_type, bool csv)
    : ex_(std::move(ex)), content_type_(content_type), csv_(csv) {
  }

  /// A client that reads nothing for this long is given up on.
  static constexpr auto write_timeout = std::chrono::seconds(60);

  void write(std::string_view chunk) {
    auto written = std::make_shared<std::promise<bool>>();
    auto result = written->get_future();
    {
      std::lock_guard<std::mutex> guard{mtx_};
      if (closed_)
        throw export_aborted("the export was ended");
      start();
      reply_->append(std::string{chunk});
      reply_->flush([written](bool ok) { written->set_value(ok); });
    }
    if (result.wait_for(write_timeout) != std::future_status::ready
        || !result.get())
      throw export_aborted("the client stopped reading the export");
  }

  bool started() {
    std::lock_guard<std::mutex> guard{mtx_};
    return reply_ != nullptr;
  }

  void finish() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return;
    closed_ = true;
    start();
    reply_->finish();
  }

  void abort() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_ || !reply_)
      return;
    closed_ = true;
    reply_->append(std::string{
      csv_ ? "error: the export failed; see the server log\n"
           : R"({"detail":"the export failed; see the server log","type":"error"})"
             "\n"});
    reply_->finish();
  }

private:
  void start() {
    if (!reply_)
      reply_ = begin_chunked(ex_, content_type_);
  }

  exchange_ptr ex_;
  const char* content_type_;
  bool csv_;
  std::mutex mtx_;
  std::unique_ptr<chunked_reply> reply_;
  bool closed_ = false;
};

/// Long enough for the whole trail to a client that keeps reading.
constexpr auto export_timeout = std::chrono::seconds(3600);

} // namespace

void audit_export(const exchange_ptr& ex, route_call&) {
  auto query = parsed_query(ex, parse_export_query);
  if (!query)
    return;
  auto& gate = ex->context().bounds->export_scans;
  auto in = gate.admit("", clock_type::now());
  if (!in.run) {
    ex->too_many("an audit export is running for another request; "
                 "retry when it ends",
                 gate.retry_after());
    return;
  }
  auto stream = std::make_shared<export_stream>(
    ex, query->csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
    query->csv);
  export_request req;
  req.range = export_range{query->since, query->until};
  req.format = query->csv ? export_format::csv : export_format::jsonl;
  req.sink = [stream](std::string_view chunk) { stream->write(chunk); };
  ask_or(
    ex, ex->context().backend.reader, export_timeout,
    [stream, run = in.run](export_summary&) { stream->finish(); },
    [ex, stream, run = in.run](caf::error& err) {
      if (stream->started())
        stream->abort();
      else
        ex->fail(err);
    },
    atoms::audit_export::value, std::move(req));
}

} // namespace hitl::routes
