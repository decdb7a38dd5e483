// The reviewer UI's files (GET /, /assets/{file}, /{file}), from memory.

#include "http/client_text.hpp"
#include "http/routes.hpp"
#include "http/server_context.hpp"

namespace hitl::routes {

void web_file(const exchange_ptr& ex, route_call& call) {
  auto& ctx = ex->context();
  std::string path{ex->path()};
  if (!call.raw.empty()
      && !parse_path_id(call.raw, path_id_kind::file_name)) {
    ex->problem_reply(404, "no route for " + echoable_text(path, 200));
    return;
  }
  // Without a built UI only its page says so; any other path is as
  // unknown as on a server with the UI.
  if (!ctx.site && path != "/") {
    ex->problem_reply(404, "no route for " + echoable_text(path, 200));
    return;
  }
  if (!ctx.site) {
    ex->respond(503,
                "<!doctype html><title>HITL</title><p>The web UI was not "
                "built: run <code>cmake --build build</code> with npm "
                "installed. The API is available under /hitl/.</p>",
                "text/html; charset=utf-8");
    return;
  }
  const static_file* f = ctx.site->find(path);
  if (!f) {
    ex->problem_reply(404, "no route for " + echoable_text(path, 200));
    return;
  }
  ex->respond(200, f->body, f->content_type.c_str(), "Cache-Control",
              f->cache_control);
}

} // namespace hitl::routes
