// POST /hitl/patches/{patch_id}/approve|reject|comment|cancel: each reads
// its body, makes the one verdict_request the supervisor takes, and answers
// with what was committed.

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "http/actor_requests.hpp"
#include "http/body_schemas.hpp"
#include "http/read_position.hpp"
#include "http/route_steps.hpp"
#include "http/routes.hpp"
#include "policy/decision_json.hpp"

#include <nlohmann/json.hpp>

namespace hitl::routes {

namespace {

verdict_request request_of(route_call& call, const approve_body& b) {
  return {call.id, b.decision_id, b.comment, std::nullopt,
          std::move(call.caller)};
}

verdict_request request_of(route_call& call, const reject_body& b) {
  return {call.id, b.decision_id, b.comment, b.reason,
          std::move(call.caller)};
}

verdict_request request_of(route_call& call, const comment_body& b) {
  return {call.id, b.decision_id, b.comment, std::nullopt,
          std::move(call.caller)};
}

verdict_request request_of(route_call& call, const cancel_body& b) {
  return {call.id, b.decision_id, std::nullopt, b.reason,
          std::move(call.caller)};
}

/// Reads the body with `parse` and asks the supervisor for `act`; the
/// decision as it then stands is the answer.
template <class Body, class Act>
void decide(const exchange_ptr& ex, route_call& call,
            parsed<Body> (*parse)(std::string_view), Act act) {
  auto body = parsed_body(ex, parse);
  if (!body)
    return;
  ask(ex, ex->context().backend.supervisor, actor_timeout,
      [ex](decision_record& rec) {
        write_reply(ex, 200, record_json(rec),
                    write_position(rec.patch_id, rec.audit_pseq));
      },
      act, request_of(call, *body));
}

} // namespace

void approve(const exchange_ptr& ex, route_call& call) {
  decide(ex, call, parse_approve, atoms::approve::value);
}

void reject(const exchange_ptr& ex, route_call& call) {
  decide(ex, call, parse_reject, atoms::reject::value);
}

void cancel(const exchange_ptr& ex, route_call& call) {
  decide(ex, call, parse_cancel, atoms::cancel::value);
}

void comment(const exchange_ptr& ex, route_call& call) {
  auto body = parsed_body(ex, parse_comment);
  if (!body)
    return;
  ask(ex, ex->context().backend.supervisor, actor_timeout,
      [ex, patch = call.id](hitl::comment& c) {
        write_reply(ex, 201, json_body(to_json(c)),
                    write_position(patch, c.audit_pseq));
      },
      atoms::comment::value, request_of(call, *body));
}

} // namespace hitl::routes
