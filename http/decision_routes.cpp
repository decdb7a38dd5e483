// POST /hitl/admin/create-decision and GET /hitl/decisions/{decision_id}
// (with ?wait=N, a long-poll until the decision is final).

#include "actors/atoms.hpp"
#include "actors/change_clock.hpp"
#include "actors/messages.hpp"
#include "http/actor_requests.hpp"
#include "http/body_schemas.hpp"
#include "http/query_strings.hpp"
#include "http/read_position.hpp"
#include "http/route_steps.hpp"
#include "http/routes.hpp"
#include "policy/decision_json.hpp"

#include <nlohmann/json.hpp>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace hitl::routes {

namespace {

/// A long-poll's place, shown in the gauge while it is held.
class long_poll_held {
public:
  long_poll_held(std::shared_ptr<long_poll_quota::permit> place,
                 server_context& ctx)
    : registry_(ctx.backend.registry), place_(std::move(place)),
      gauge_(*ctx.long_polls) {
    gauge_.Increment();
  }
  ~long_poll_held() {
    gauge_.Decrement();
  }
  long_poll_held(const long_poll_held&) = delete;
  long_poll_held& operator=(const long_poll_held&) = delete;

private:
  std::shared_ptr<prometheus::Registry> registry_; // owns the gauge
  std::shared_ptr<long_poll_quota::permit> place_;
  prometheus::Gauge& gauge_;
};

/// Answers the decision from the cache, or reads it.
void read_decision(const exchange_ptr& ex, const std::string& id) {
  auto& ctx = ex->context();
  // Noted before the read: a commit meanwhile makes what is read too old
  // to keep.
  auto generation = ctx.backend.changes->decision(id);
  auto cached = may_use_cache(ex);
  if (!cached)
    return;
  if (*cached) {
    if (auto body = ctx.decisions.find(id, generation)) {
      ex->respond(200, *body);
      return;
    }
  }
  ask(ex, ctx.backend.reader, actor_timeout,
      [ex, id, generation](std::optional<decision_view>& v) {
        if (!v) {
          ex->problem_reply(404, "no decision " + id);
          return;
        }
        auto body = std::make_shared<const std::string>(decision_view_body(
          v->record, v->comments, v->audit_trail_json));
        ex->context().decisions.store(id, body, generation);
        ex->respond(200, *body);
      },
      atoms::get::value, decision_ref{id});
}

} // namespace

void create_decision(const exchange_ptr& ex, route_call& call) {
  auto nd = parsed_body(ex, parse_create_decision);
  if (!nd)
    return;
  if (nd->decision_id)
    ex->set_decision_id(*nd->decision_id);
  ask(ex, ex->context().backend.supervisor, actor_timeout,
      [ex](create_result& r) {
        ex->set_decision_id(r.record.decision_id);
        write_reply(ex, r.created ? 201 : 200, record_json(r.record),
                    write_position(r.record.patch_id, r.record.audit_pseq));
      },
      atoms::create::value,
      make_create_request(std::move(*nd), std::move(call.caller)));
}

void get_decision(const exchange_ptr& ex, route_call& call) {
  auto wait = parsed_query(ex, parse_wait_query);
  if (!wait)
    return;
  std::string id = call.id;
  if (*wait == 0 || !valid_decision_id(id)) {
    read_decision(ex, id);
    return;
  }
  // Long-poll: the cluster feed answers when the decision becomes final,
  // whichever node commits it, or when the time is up; then read it. The place is held until that answer (or
  // its timeout).
  auto& ctx = ex->context();
  auto place = ctx.bounds->long_polls.try_acquire(ex->token_key());
  if (!place) {
    ex->too_many("this token has "
                   + std::to_string(ctx.opts.limits.max_long_polls_per_token)
                   + " long-polls in flight already",
                 std::nullopt);
    return;
  }
  auto held = std::make_shared<long_poll_held>(std::move(place), ctx);
  ask(ex, ctx.backend.feed, std::chrono::seconds(*wait + 10),
      [ex, id, held](bool) { read_decision(ex, id); }, atoms::wait::value,
      decision_wait{id, *wait});
}

} // namespace hitl::routes
