#include "http/route_table.hpp"

#include "http/routes.hpp"

namespace hitl {

namespace {

constexpr path_param patch{path_id_kind::patch_id, "patch"};
constexpr path_param decision{path_id_kind::decision_id, "decision"};

constexpr auto get = http_verb::get;
constexpr auto post = http_verb::post;
constexpr auto anyone = access_kind::open;
constexpr auto token = access_kind::token;

} // namespace

const std::vector<route_spec>& route_table() {
  using op = operation;
  // The router tries each route's regex in turn, after its method: the
  // busiest routes (create, GET decision) go first, the UI's catch-all
  // /{file} last.
  static const std::vector<route_spec> table = {
    {post, "/hitl/admin/create-decision", token, op::create, {},
     routes::create_decision},
    {get, "/hitl/decisions/{decision_id}", token, op::read_decision, decision,
     routes::get_decision},
    {get, "/hitl/ws", access_kind::own, op::event_stream, {},
     routes::event_stream},
    {post, "/hitl/patches/{patch_id}/approve", token, op::verdict, patch,
     routes::approve},
    {post, "/hitl/patches/{patch_id}/reject", token, op::verdict, patch,
     routes::reject},
    {post, "/hitl/patches/{patch_id}/comment", token, op::comment, patch,
     routes::comment},
    {post, "/hitl/patches/{patch_id}/cancel", token, op::cancel, patch,
     routes::cancel},
    {get, "/hitl/patches/pending", token, op::read_queue, {}, routes::pending},
    {get, "/hitl/analytics/summary", token, op::analytics, {},
     routes::summary},
    {get, "/hitl/analytics/audit-logs", token, op::audit_logs, {},
     routes::audit_logs},
    {get, "/hitl/audit/verify", token, op::verify_audit, {}, routes::verify},
    {get, "/health", anyone, {}, {}, routes::health},
    {get, "/metrics", anyone, {}, {}, routes::metrics},
    {get, "/openapi.json", anyone, {}, {}, routes::openapi},
    // No token: whoever keeps checkpoints needs the key to check them, and
    // a public key is public.
    {get, "/hitl/audit/public-key", anyone, {}, {}, routes::public_key},
    {get, "/hitl/audit/export", token, op::verify_audit, {},
     routes::audit_export},
    {get, "/", anyone, {}, {}, routes::web_file, false, "/{ui}"},
    {get, "/assets/{file}", anyone, {}, {}, routes::web_file, false, "/{ui}"},
    {get, "/{file}", anyone, {}, {}, routes::web_file, false, "/{ui}"},
  };
  return table;
}

std::string express_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      auto end = path.find('}', i);
      out += ':';
      out.append(path.substr(i + 1, end - i - 1));
      i = end;
    } else {
      out += path[i];
    }
  }
  return out;
}

std::string param_name(std::string_view path) {
  auto open = path.find('{');
  if (open == std::string_view::npos)
    return {};
  auto close = path.find('}', open);
  return std::string{path.substr(open + 1, close - open - 1)};
}

const char* verb_name(http_verb v) {
  return v == http_verb::get ? "GET" : "POST";
}

} // namespace hitl
