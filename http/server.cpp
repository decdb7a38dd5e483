// The RESTinio server and its router: the only translation unit that
// instantiates RESTinio's server and router templates (they cost ~14 s to
// compile). The routes come from http/route_table.cpp and their handlers
// from the files that http/routes.hpp names; here they are registered, with
// a 405 for every other method on a known path, a CORS preflight answer,
// the answers to what the transport refused, and the WebSocket upgrade
// (which takes the socket from RESTinio).

#include "http/server.hpp"

#include "actors/health_check.hpp"
#include "http/authorization.hpp"
#include "http/bridge.hpp"
#include "http/client_text.hpp"
#include "http/connection_limiter.hpp"
#include "http/edge_actors.hpp"
#include "http/response_json.hpp"
#include "http/restinio_exchange.hpp"
#include "http/route_steps.hpp"
#include "http/route_table.hpp"
#include "http/routes.hpp"
#include "http/server_context.hpp"
#include "http/transport_limits.hpp"
#include "http/ws_connection.hpp"
#include "http/ws_handshake.hpp"
#include "policy/api_token.hpp"

#include <caf/all.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace hitl {

namespace {

using router_t = restinio::router::express_router_t<>;

/// The express router, behind a check of the request target: RESTinio's
/// router throws on a path whose percent-encoding is not valid UTF-8
/// (`%FF`) before it tries any route, and the connection would close
/// without an answer. Such a path is answered 404 like any unknown one.
class edge_router : public router_t {
public:
  explicit edge_router(server_context& ctx) : ctx_(ctx) {
  }
  restinio::request_handling_status_t
  operator()(restinio::request_handle_t req) const;

private:
  server_context& ctx_;
};

class refusal_gate;

// Beyond limits.max_connections, new connections wait in the kernel's
// backlog (RESTinio stops accepting; the strand type selects the limiter of
// http/connection_limiter.hpp, which says why); the methods mapper selects
// the parser callbacks of http/transport_limits.hpp, and refusal_gate
// answers what they refused.
struct traits_t : restinio::default_traits_t {
  using strand_t = transport::connection_strand;
  using request_handler_t = refusal_gate;
  using http_methods_mapper_t = transport::http_methods;
  static constexpr bool use_connection_count_limiter = true;
};

using server_handle = restinio::running_server_handle_t<traits_t>;


// -- requests the transport refused ------------------------------------------

/// The request handler of traits_t: a request that the parser callbacks of
/// http/transport_limits.hpp refused is answered here, with the connection
/// closed after it; the others go to the router.
class refusal_gate {
public:
  refusal_gate(std::unique_ptr<edge_router> router, server_context& ctx)
    : router_(std::move(router)), ctx_(&ctx) {
  }

  restinio::request_handling_status_t
  operator()(restinio::request_handle_t req) const {
    request_handler_scope handling;
    auto why = transport::refusal_of(req->header());
    if (why == transport::refusal::none)
      return (*router_)(std::move(req));
    answer(why, std::move(req));
    return restinio::request_accepted();
  }

private:
  void answer(transport::refusal why, restinio::request_handle_t req) const {
    using transport::refusal;
    const auto& l = ctx_->opts.limits;
    auto bytes = [](size_t n) { return std::to_string(n) + " bytes"; };
    auto secs = [](edge_limits::seconds s) {
      return fmt::format("{:g} s", s.count());
    };
    auto ex = make_exchange(*ctx_, std::move(req), "refused");
    switch (why) {
      case refusal::target_too_long:
        ex->problem_reply(414, "the request target is longer than "
                                + bytes(l.max_request_line_bytes));
        return;
      case refusal::field_too_large:
        ex->problem_reply(431, "a header field (name and value) is longer than "
                                + bytes(l.max_header_bytes));
        return;
      case refusal::fields_too_large:
        ex->problem_reply(431, "the header fields are longer than "
                                + bytes(l.max_headers_total_bytes)
                                + " in all");
        return;
      case refusal::too_many_fields:
        ex->problem_reply(431, "more than "
                                + std::to_string(l.max_header_count)
                                + " header fields");
        return;
      case refusal::body_too_large:
        ex->problem_reply(413, "the body is larger than "
                                + bytes(ctx_->opts.max_body_bytes));
        return;
      case refusal::too_slow:
        ex->problem_reply(408, "the headers must arrive within "
                                + secs(l.header_timeout)
                                + " of the request's first byte, the body "
                                  "within "
                                + secs(l.body_timeout) + " after them");
        return;
      case refusal::none:
        break;
    }
    ex->problem_reply(400, "malformed request");
  }

  std::unique_ptr<edge_router> router_;
  server_context* ctx_;
};

// -- the live event stream and the web UI ------------------------------------

/// The token of a WebSocket upgrade and the subprotocol to echo: see
/// http/ws_handshake.hpp.
ws_credentials ws_token(const restinio::request_t& req) {
  ws_offer offer;
  req.header().for_each_value_of(
    restinio::http_field::sec_websocket_protocol,
    [&offer](restinio::string_view_t value) {
      add_ws_protocols(std::string_view{value.data(), value.size()}, offer);
      return restinio::http_header_fields_t::continue_enumeration();
    });
  std::optional<std::string> authorization;
  if (auto field = req.header().try_get_field("Authorization"))
    authorization = std::string{*field};
  return ws_credentials_of(bearer_token(authorization), offer);
}

/// Whether a comma-separated header holds `token`, in any case.
bool header_has_token(const restinio::request_t& req, const char* name,
                      std::string_view token) {
  bool found = false;
  req.header().for_each_value_of(name, [&](restinio::string_view_t value) {
    std::string_view rest{value.data(), value.size()};
    while (!rest.empty() && !found) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ')
        item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ')
        item.remove_suffix(1);
      found = item.size() == token.size()
              && strncasecmp(item.data(), token.data(), token.size()) == 0;
      rest = comma == std::string_view::npos ? std::string_view{}
                                             : rest.substr(comma + 1);
    }
    return found ? restinio::http_header_fields_t::stop_enumeration()
                 : restinio::http_header_fields_t::continue_enumeration();
  });
  return found;
}

} // namespace

/// GET /hitl/ws: the upgrade to the live event stream.
void routes::event_stream(const exchange_ptr& ex, route_call&) {
  auto req = request_of(*ex);
  auto& ctx = ex->context();
  auto cred = ws_token(*req);
  auto hash = hash_token(cred.token);
  token_info info;
  // Decided here, on the I/O thread, from the token cache that the token
  // refresher keeps filled: an upgrade cannot wait for the database.
  if (cred.token.empty()
      || ctx.tokens.find(hash, info) != token_cache::lookup::valid) {
    ex->problem_reply(401, cred.token.empty()
                             ? "a bearer token is required (Authorization "
                               "header, or the subprotocol bearer.<token> "
                               "beside hitl.v1)"
                             : "the token is unknown or revoked");
    return;
  }
  ex->set_identity(info.name, to_string(info.role));
  // Only a request that http_parser took for an upgrade (both headers)
  // may have its socket taken: RESTinio keeps reading any other.
  auto key = req->header().opt_value_of(
    restinio::http_field::sec_websocket_key);
  auto version = req->header().opt_value_of(
    restinio::http_field::sec_websocket_version);
  if (!header_has_token(*req, "Upgrade", "websocket")
      || !header_has_token(*req, "Connection", "upgrade")
      || !key || !valid_ws_key(*key) || !version || *version != "13"
      || req->header().http_major() != 1
      || req->header().http_minor() < 1) {
    ex->problem_reply(400, "this is a WebSocket endpoint (Upgrade: "
                           "websocket, Connection: Upgrade, "
                           "a Sec-WebSocket-Key of 16 bytes in base64, "
                           "Sec-WebSocket-Version: 13, HTTP/1.1)");
    return;
  }
  if (cred.refusal) {
    ex->problem_reply(400, *cred.refusal);
    return;
  }
  const auto& limits = ctx.opts.limits;
  switch (ctx.stream.reserve(info.token_hash, limits.max_ws_clients,
                             limits.max_ws_clients_per_token)) {
    case event_stream::admission::admitted:
      break;
    case event_stream::admission::too_many:
      ex->problem_reply(429, "the event stream has its maximum of "
                               + std::to_string(limits.max_ws_clients)
                               + " clients; try again later");
      return;
    case event_stream::admission::too_many_for_token:
      ex->problem_reply(
        429, "this token already has "
               + std::to_string(limits.max_ws_clients_per_token)
               + " event stream clients, the most one token may have");
      return;
  }
  // The socket leaves RESTinio here, as in restinio::websocket::basic::
  // upgrade, for our own connection (http/ws_connection.hpp says why).
  auto& conn = restinio::impl::access_req_connection(*req);
  auto* http = dynamic_cast<restinio::impl::connection_t<traits_t>*>(
    conn.get());
  if (!http) { // not an upgrade RESTinio made: cannot happen, but say so
    ctx.stream.release(info.token_hash);
    ex->problem_reply(503, "the connection cannot be upgraded");
    return;
  }
  auto response = ws_handshake_response(std::string{*key}, cred.protocol,
                                        ex->request_id());
  auto id = ctx.stream.next_id();
  std::shared_ptr<ws_connection> ws;
  try {
    auto held = std::move(conn);
    auto taken = http->move_upgrade_internals();
    using ticket = decltype(taken.m_lifetime_monitor);
    std::weak_ptr<server_context> weak = ctx.shared_from_this();
    ws = std::make_shared<ws_connection>(
      std::move(taken.m_socket),
      std::make_shared<ticket>(std::move(taken.m_lifetime_monitor)),
      limits.max_ws_message_bytes, [weak, id] {
        if (auto c = weak.lock())
          c->stream.remove(id);
      });
  } catch (const std::exception& e) {
    // Out of memory: the socket, taken, is closed with what held it.
    ctx.stream.release(info.token_hash);
    spdlog::error("GET /hitl/ws: upgrade failed: {}", e.what());
    return;
  }
  ctx.stream.add(id, ws, info.token_hash);
  ws->start(std::move(response));
  spdlog::info("GET /hitl/ws 101 {} request={} ({} clients)", info.name,
               ex->request_id(), ctx.stream.clients());
}

namespace {

/// Every route of the table (http/route_table.hpp), in its order.
void add_routes(router_t& r, server_context& ctx) {
  for (const auto& spec : route_table()) {
    auto param = param_name(spec.path);
    auto handler = [&ctx, &spec, param](restinio::request_handle_t req,
                                        restinio::router::route_params_t
                                          params) {
      auto ex = make_exchange(ctx, std::move(req), spec.name());
      restinio::string_view_t raw;
      if (!param.empty() && params.has(param))
        raw = params[param];
      run_route(spec, ex, {raw.data(), raw.size()});
      return restinio::request_accepted();
    };
    if (spec.verb == http_verb::get)
      r.http_get(express_path(spec.path), std::move(handler));
    else
      r.http_post(express_path(spec.path), std::move(handler));
  }
}

/// The methods of each documented path, in the table's order.
std::vector<std::pair<const route_spec*, std::vector<http_verb>>>
documented_paths() {
  std::vector<std::pair<const route_spec*, std::vector<http_verb>>> out;
  for (const auto& spec : route_table()) {
    if (!spec.documented)
      continue;
    auto same = [&](const auto& entry) {
      return std::string_view{entry.first->path} == spec.path;
    };
    auto it = std::find_if(out.begin(), out.end(), same);
    if (it == out.end())
      out.push_back({&spec, {spec.verb}});
    else
      it->second.push_back(spec.verb);
  }
  return out;
}

/// 405 with Allow for every other method on a documented path; OPTIONS
/// answered (a CORS preflight among them).
void add_method_guards(router_t& r, server_context& ctx) {
  using namespace restinio;
  for (const auto& [spec, verbs] : documented_paths()) {
    bool get = std::count(verbs.begin(), verbs.end(), http_verb::get) > 0;
    bool post = std::count(verbs.begin(), verbs.end(), http_verb::post) > 0;
    std::string allow = std::string{get ? "GET, " : ""}
                        + (post ? "POST, " : "") + "OPTIONS";
    auto path = express_path(spec->path);
    const char* name = spec->name();
    r.add_handler(http_method_options(), path,
                  [&ctx, name, allow](request_handle_t req, auto) {
                    auto ex = make_exchange(ctx, std::move(req), name);
                    if (ctx.closing.load())
                      ex->problem_reply(503, "the server is shutting down");
                    else
                      ex->options(allow.c_str());
                    return request_accepted();
                  });
    auto refuse = [&ctx, name, allow](request_handle_t req, auto) {
      auto ex = make_exchange(ctx, std::move(req), name);
      ex->respond(405, ex->problem_text(405, "allowed methods: " + allow),
                  "application/problem+json", "Allow", allow);
      return request_accepted();
    };
    if (get && post)
      r.add_handler(router::none_of_methods(http_method_get(),
                                            http_method_post(),
                                            http_method_options()),
                    path, refuse);
    else if (get)
      r.add_handler(router::none_of_methods(http_method_get(),
                                            http_method_options()),
                    path, refuse);
    else
      r.add_handler(router::none_of_methods(http_method_post(),
                                            http_method_options()),
                    path, refuse);
  }
}

restinio::request_handling_status_t
answer_unrouted(server_context& ctx, restinio::request_handle_t req) {
  auto ex = make_exchange(ctx, std::move(req), "unmatched");
  ex->problem_reply(404, "no route for " + echoable_text(ex->path(), 200));
  return restinio::request_accepted();
}

restinio::request_handling_status_t
edge_router::operator()(restinio::request_handle_t req) const {
  namespace norm = restinio::utils::uri_normalization::unreserved_chars;
  try {
    (void) norm::estimate_required_capacity(req->header().path());
  } catch (const std::exception&) {
    return answer_unrouted(ctx_, std::move(req));
  }
  return router_t::operator()(std::move(req));
}

/// Enough bridges that a slow continuation (a large JSON reply) does not
/// hold up the others, few enough to stay warm.
constexpr size_t bridge_count = 4;

/// How long a stop waits for requests in flight (long-polls may be cut).
constexpr auto drain_limit = std::chrono::seconds(5);

class restinio_server : public http_server {
public:
  restinio_server(std::shared_ptr<server_context> ctx, server_handle h)
    : ctx_(std::move(ctx)), handle_(std::move(h)) {
  }
  ~restinio_server() override {
    stop();
  }
  void stop() override {
    if (handle_) {
      // Let the requests in flight be answered (their actors are still
      // running) before the connections go; new ones get 503 meanwhile.
      ctx_->closing = true;
      auto deadline = clock_type::now() + drain_limit;
      while (ctx_->unanswered.load() > 0 && clock_type::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (auto left = ctx_->unanswered.load(); left > 0)
        spdlog::warn("stopping with {} requests unanswered", left);
      caf::anon_send_exit(ctx_->feed, caf::exit_reason::user_shutdown);
      for (const auto& b : ctx_->bridges)
        caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(ctx_->health, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(ctx_->token_refresher,
                          caf::exit_reason::user_shutdown);
      ctx_->stream.close_all();
      handle_->stop();
      handle_->wait();
      handle_.reset();
    }
  }

private:
  std::shared_ptr<server_context> ctx_;
  server_handle handle_;
};

} // namespace

void parse_listen(const std::string& listen, http_options& opts) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    throw std::invalid_argument("--listen: expected host:port, got '" + listen
                                + "'");
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  size_t used = 0;
  unsigned long port = 0;
  try {
    port = std::stoul(listen.substr(colon + 1), &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != listen.size() - colon - 1 || port == 0 || port > 65535)
    throw std::invalid_argument("--listen: bad port in '" + listen + "'");
  opts.host = host.empty() ? "127.0.0.1" : host;
  opts.port = static_cast<uint16_t>(port);
}

std::unique_ptr<http_server> start_http_server(const http_options& opts,
                                               caf::actor_system& sys,
                                               http_backend backend) {
  if (!backend.changes)
    throw std::invalid_argument("start_http_server: no change clock");
  auto ctx = std::make_shared<server_context>();
  auto io = std::make_shared<restinio::asio_ns::io_context>();
  ctx->io = io;
  ctx->sys = &sys;
  ctx->backend = std::move(backend);
  ctx->stream.count_into(ctx->backend.audience);
  ctx->opts = opts;
  auto& reg = *ctx->backend.registry;
  ctx->requests = &prometheus::BuildCounter()
                     .Name("http_requests_total")
                     .Help("HTTP requests by method, route template and status")
                     .Register(reg);
  ctx->durations = &prometheus::BuildHistogram()
                      .Name("http_request_duration_seconds")
                      .Help("HTTP request latency by method and route template")
                      .Register(reg);
  ctx->long_polls = &prometheus::BuildGauge()
                       .Name("hitl_http_long_polls")
                       .Help("Long-polls (GET /hitl/decisions/{id}?wait=N) "
                             "in flight")
                       .Register(reg)
                       .Add({});
  if (opts.log_access)
    ctx->access = std::make_unique<access_log>(opts.access_log_format);
  ctx->site = static_site::load(locate_web_root());
  if (ctx->site)
    spdlog::info("web UI: {} bytes from {}", ctx->site->bytes(),
                 locate_web_root());
  else
    spdlog::warn("web UI not found next to the binary; serving the API only");
  ctx->bounds = std::make_unique<request_bounds>(opts.limits);
  auto router = std::make_unique<edge_router>(*ctx);
  add_routes(*router, *ctx);
  add_method_guards(*router, *ctx);
  router->non_matched_request_handler([c = ctx.get()](auto req) {
    return answer_unrouted(*c, std::move(req));
  });
  // The bounds of a request are the parser callbacks' (transport_limits.hpp);
  // RESTinio's own, about twice as large, stay behind them as a backstop.
  // RESTinio has one read limit: from the end of the previous response (or
  // the accept) to the end of the next request, keep-alive idle time
  // included. It is the sum of the header and body times, for a client that
  // stops sending; the callbacks hold each phase to its own time. Requests
  // are handled within 90 s: above the longest long-poll (60 s).
  transport::configure(opts.limits, opts.max_body_bytes);
  auto read_limit = std::chrono::duration_cast<std::chrono::milliseconds>(
    opts.limits.header_timeout + opts.limits.body_timeout);
  auto settings =
    restinio::server_settings_t<traits_t>{}
      .address(opts.host)
      .port(opts.port)
      .max_parallel_connections(opts.limits.max_connections)
      .read_next_http_message_timelimit(read_limit)
      .write_http_response_timelimit(std::chrono::seconds(30))
      .handle_request_timeout(std::chrono::seconds(90))
      .incoming_http_msg_limits(
        transport::backstop_limits(opts.limits, opts.max_body_bytes))
      .request_handler(std::move(router), *ctx);
  // Before the first request can arrive; stopped again if the start fails.
  actor_failures failures{ctx->backend.registry};
  for (size_t i = 0; i < bridge_count; ++i)
    ctx->bridges.push_back(spawn_bridge(sys, failures));
  ctx->health = spawn_health_check(sys, ctx->backend.supervisor,
                                   ctx->backend.auditor, ctx->backend.reader,
                                   ctx->backend.membership,
                                   ctx->backend.registry);
  std::optional<server_handle> handle;
  try {
    handle = restinio::run_async<traits_t>(
      restinio::io_context_holder_t{io}, std::move(settings),
      opts.threads);
  } catch (...) {
    for (const auto& b : ctx->bridges)
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ctx->health, caf::exit_reason::user_shutdown);
    throw;
  }
  // Started last: nothing above may leave them running if it throws.
  ctx->feed = spawn_event_feed(sys, ctx->backend.feed, ctx->stream,
                               ctx->backend.public_url, failures);
  ctx->token_refresher =
    spawn_token_refresher(sys, ctx->backend.reader, ctx->tokens, ctx->stream,
                          failures, ctx->backend.auditor);
  return std::make_unique<restinio_server>(std::move(ctx), std::move(*handle));
}

} // namespace hitl
