// The read-only queries: GET /hitl/patches/pending, /hitl/analytics/summary,
// /hitl/analytics/audit-logs and /hitl/audit/verify. Each reads its query
// string, answers from memory when it can (a cached page, a kept scan),
// else asks a database reader.

#include "actors/atoms.hpp"
#include "actors/change_clock.hpp"
#include "actors/messages.hpp"
#include "http/actor_requests.hpp"
#include "http/query_strings.hpp"
#include "http/read_position.hpp"
#include "http/route_steps.hpp"
#include "http/routes.hpp"
#include "policy/decision_json.hpp"
#include "policy/timestamp.hpp"

#include <nlohmann/json.hpp>

namespace hitl::routes {

namespace {

using json = nlohmann::json;

/// The identity of a pending query, for its cached pages.
std::string queue_key(const pending_query& q) {
  auto rank = [](const std::optional<urgency>& u) {
    return u ? std::to_string(static_cast<int>(*u)) : std::string{"-"};
  };
  return rank(q.priority) + '/' + rank(q.severity) + '/'
         + std::to_string(static_cast<int>(q.sort)) + '/'
         + std::to_string(q.limit) + '/' + q.cursor.value_or("");
}

/// A scan's place (SPEC §10): a kept result is answered at once; with no
/// place left, 429. Otherwise the place to run it in.
std::shared_ptr<scan_gate::permit> scan_place(const exchange_ptr& ex,
                                              scan_gate& gate,
                                              const std::string& query,
                                              const char* busy) {
  auto in = gate.admit(query, clock_type::now());
  if (in.reused) {
    ex->json_reply(200, *in.reused);
    return nullptr;
  }
  if (!in.run)
    ex->too_many(busy, gate.retry_after());
  return in.run;
}

json verification_json(const verification_report& rep) {
  json body{{"intact", rep.intact()},
            {"checked", rep.checked},
            {"head_hash", rep.head_hash},
            {"first_break", nullptr},
            {"decisions_checked", rep.decisions_checked},
            {"mismatch_count", rep.mismatch_count},
            {"mismatches", json::array()}};
  if (rep.first_break)
    body["first_break"] = {{"seq", rep.first_break->seq},
                           {"kind", to_string(rep.first_break->kind)},
                           {"message", rep.first_break->message}};
  for (const auto& m : rep.mismatches)
    body["mismatches"].push_back({{"decision_id", m.decision_id},
                                  {"field", m.field},
                                  {"in_table", m.in_table},
                                  {"in_chain", m.in_chain},
                                  {"message", m.message}});
  body["tokens_checked"] = rep.tokens.tokens_checked;
  body["token_mismatch_count"] = rep.tokens.mismatch_count;
  body["token_mismatches"] = json::array();
  for (const auto& m : rep.tokens.mismatches)
    body["token_mismatches"].push_back(
      {{"token_id", m.token_id}, {"name", m.name}, {"message", m.message}});
  return body;
}

} // namespace

void pending(const exchange_ptr& ex, route_call&) {
  auto pq = parsed_query(ex, parse_pending_query);
  if (!pq)
    return;
  pending_filter f{pq->priority, pq->severity, pq->sort, std::nullopt,
                   pq->limit};
  if (pq->cursor) {
    f.after = decode_cursor(*pq->cursor, pq->sort);
    if (!f.after) {
      ex->problem_reply(400, "the cursor does not belong to this query",
                        {{"cursor", "is not a cursor of this sort"}});
      return;
    }
  }
  auto& ctx = ex->context();
  auto key = queue_key(*pq);
  auto generation = ctx.backend.changes->queue();
  auto cached = may_use_cache(ex);
  if (!cached)
    return;
  if (*cached) {
    if (auto page = ctx.queue_pages.find(key, generation)) {
      ex->respond(200, pending_body(*page, now()));
      return;
    }
  }
  auto sort = pq->sort;
  ask(ex, ctx.backend.reader, actor_timeout,
      [ex, sort, key, generation](pending_page& page) {
        auto rendered = std::make_shared<const rendered_pending>(
          render_pending(page, sort));
        ex->context().queue_pages.store(key, rendered, generation);
        ex->respond(200, pending_body(*rendered, now()));
      },
      atoms::pending::value, f);
}

void summary(const exchange_ptr& ex, route_call&) {
  auto sq = parsed_query(ex, parse_summary_query);
  if (!sq)
    return;
  auto bound = [](const std::optional<timestamp>& t) {
    return t ? format_iso(*t) : std::string{"-"};
  };
  auto run = scan_place(ex, ex->context().bounds->summary_scans,
                        bound(sq->since) + "/" + bound(sq->until),
                        "the summary is being computed for other requests; "
                        "retry shortly");
  if (!run)
    return;
  ask(ex, ex->context().backend.reader, actor_timeout,
      [ex, run](decision_summary& s) {
        auto body = std::make_shared<const std::string>(
          json_body(summary_json(s)));
        run->keep(body, clock_type::now());
        ex->json_reply(200, *body);
      },
      atoms::summary::value, summary_request{sq->since, sq->until});
}

void audit_logs(const exchange_ptr& ex, route_call&) {
  auto aq = parsed_query(ex, parse_audit_query);
  if (!aq)
    return;
  audit_filter f{aq->decision_id, aq->action,  aq->performed_by,
                 aq->since,       aq->until,   aq->after_seq.value_or(0),
                 aq->limit};
  int limit = aq->limit;
  ask(ex, ex->context().backend.reader, actor_timeout,
      [ex, limit](std::vector<audit_entry>& entries) {
        ex->json_reply(200, audit_page_json(entries, limit));
      },
      atoms::audit::value, f);
}

void verify(const exchange_ptr& ex, route_call&) {
  auto run = scan_place(ex, ex->context().bounds->verify_scans, "",
                        "the audit trail is being verified for another "
                        "request; retry shortly");
  if (!run)
    return;
  ask(ex, ex->context().backend.reader, std::chrono::seconds(120),
      [ex, run](verification_report& rep) {
        auto text = std::make_shared<const std::string>(
          json_body(verification_json(rep)));
        run->keep(text, clock_type::now());
        ex->json_reply(200, *text);
      },
      atoms::verify::value);
}

} // namespace hitl::routes
