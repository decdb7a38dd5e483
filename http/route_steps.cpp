#include "http/route_steps.hpp"

#include "http/authorization.hpp"
#include "http/client_text.hpp"
#include "http/server_context.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <exception>
#include <string>

namespace hitl {

void run_route(const route_spec& r, const exchange_ptr& ex,
               std::string_view raw_param) {
  if (ex->context().closing.load()) {
    ex->problem_reply(503, "the server is shutting down");
    return;
  }
  try {
    route_call call;
    call.raw = raw_param;
    if (r.param) {
      auto id = parse_path_id(raw_param, r.param->kind);
      if (!id) {
        ex->problem_reply(404, std::string{"no "} + r.param->what + " '"
                                 + echoable_text(raw_param, 64)
                                 + "': not a valid id");
        return;
      }
      if (r.param->kind == path_id_kind::decision_id)
        ex->set_decision_id(*id);
      else if (r.param->kind == path_id_kind::patch_id)
        ex->set_patch_id(*id);
      call.id = std::move(*id);
    }
    if (r.access != access_kind::token) {
      r.handler(ex, call);
      return;
    }
    // The raw parameter is the router's, gone once this returns; a handler
    // after a token lookup has the checked id.
    call.raw = {};
    auto handler = r.handler;
    authorize(ex, r.op, [ex, handler, call = std::move(call)](caller who) mutable {
      call.caller = std::move(who);
      handler(ex, call);
    });
  } catch (const std::exception& e) {
    spdlog::error("{} {} request={}: {}", ex->method(), r.name(),
                  ex->request_id(), e.what());
    if (!ex->answered())
      ex->problem_reply(500, "internal error; see the server log");
  }
}

bool acceptable_body(const exchange_ptr& ex) {
  // An empty body needs no Content-Type; the parser says whether one was
  // required (400) or not. (A body over max_body_bytes never gets here:
  // the transport refused it with 413 before storing more than that, see
  // http/transport_limits.hpp.)
  if (ex->body().empty())
    return true;
  auto ct = ex->header("Content-Type");
  std::string type = ct ? ct->substr(0, ct->find(';')) : std::string{};
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  for (auto& c : type)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool is_json = type == "application/json"
                 || (type.size() > 5 && type.rfind("+json") == type.size() - 5);
  if (!is_json) {
    ex->problem_reply(415, "the body must be JSON (Content-Type: "
                           "application/json)");
    return false;
  }
  return true;
}

} // namespace hitl
