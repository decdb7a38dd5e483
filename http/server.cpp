// The RESTinio server and its router: the only translation unit that
// instantiates RESTinio's server templates (they cost ~14 s to compile).
// Every route authenticates, validates once into domain values, sends one
// message to an actor, and answers when the actor does; no I/O thread ever
// waits on the database or on an actor.

#include "http/server.hpp"

#include "actors/atoms.hpp"
#include "actors/change_clock.hpp"
#include "actors/health_check.hpp"
#include "actors/messages.hpp"
#include "actors/service_error.hpp"
#include "http/access_policy.hpp"
#include "http/bridge.hpp"
#include "http/connection_limiter.hpp"
#include "http/auth_failure_limiter.hpp"
#include "http/edge_actors.hpp"
#include "http/event_stream.hpp"
#include "http/long_poll_quota.hpp"
#include "http/request_parsing.hpp"
#include "http/response_cache.hpp"
#include "http/response_json.hpp"
#include "http/scan_gate.hpp"
#include "http/static_site.hpp"
#include "http/token_cache.hpp"
#include "http/ws_connection.hpp"
#include "http/ws_handshake.hpp"
#include "http/transport_limits.hpp"
#include "policy/decision_json.hpp"
#include "policy/api_token.hpp"
#include "policy/sha256.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace hitl {

const char* openapi_document(); // generated from http/openapi.json

namespace {

using router_t = restinio::router::express_router_t<>;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

struct server_context;

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

/// Longer than any single commit or read the actors allow themselves.
constexpr auto actor_timeout = std::chrono::seconds(20);

/// The bounds of SPEC §10 that keep state between requests.
struct request_bounds {
  explicit request_bounds(const edge_limits& l)
    : verify_scans(l.max_concurrent_scans, duration_of(l.scan_result_reuse)),
      summary_scans(l.max_concurrent_scans,
                    duration_of(l.scan_result_reuse)),
      export_scans(l.max_concurrent_scans, clock_type::duration::zero()),
      auth_failures(l.max_auth_failures, duration_of(l.auth_failure_window)),
      long_polls(l.max_long_polls_per_token) {
  }
  static clock_type::duration duration_of(edge_limits::seconds s) {
    return std::chrono::duration_cast<clock_type::duration>(s);
  }
  scan_gate verify_scans;
  scan_gate summary_scans;
  /// Exports are streamed, never kept: a place, no reuse.
  scan_gate export_scans;
  auth_failure_limiter auth_failures;
  long_poll_quota long_polls;
};

// Shared by every exchange in flight, and owner of the io_context: an actor
// may answer a request after the server stopped (SIGTERM under load), and
// the connection it answers on must still find its io_context then. The
// io_context, stopped, goes only with the last exchange.
struct server_context : std::enable_shared_from_this<server_context> {
  std::shared_ptr<restinio::asio_ns::io_context> io =
    std::make_shared<restinio::asio_ns::io_context>();
  caf::actor_system* sys = nullptr;
  http_backend backend;
  http_options opts;
  prometheus::Family<prometheus::Counter>* requests = nullptr;
  prometheus::Family<prometheus::Histogram>* durations = nullptr;
  prometheus::Gauge* long_polls = nullptr;
  token_cache tokens;
  /// Bodies of GET /hitl/decisions/{id} (≈ 2 KB each, so ≈ 32 MB when
  /// full) and pages of GET /hitl/patches/pending (≤ 60 KB each), valid
  /// while backend.changes says so.
  response_cache<std::string> decisions{16384};
  response_cache<rendered_pending> queue_pages{256};
  event_stream stream;
  std::unique_ptr<request_bounds> bounds;
  std::optional<static_site> site;
  caf::actor feed;
  caf::actor token_refresher;
  /// Long-lived actors through which the routes ask the service's actors
  /// (see ask); taken in turn.
  std::vector<caf::actor> bridges;
  std::atomic<size_t> next_bridge{0};
  /// Behind /health (actors/health_check.hpp).
  health_check_actor health;
  /// Requests accepted and not yet answered, and whether new ones are still
  /// taken: a stop lets those in flight finish first (see restinio_server).
  std::atomic<int64_t> unanswered{0};
  std::atomic<bool> closing{false};
};

// -- one request, from route to response ------------------------------------

class exchange {
public:
  exchange(server_context& ctx, restinio::request_handle_t req,
           const char* route)
    : ctx_(ctx.shared_from_this()), req_(std::move(req)), route_(route),
      started_(clock_type::now()) {
    ctx_->unanswered.fetch_add(1);
  }
  ~exchange() {
    if (!answered_)
      ctx_->unanswered.fetch_sub(1);
  }
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  const restinio::request_handle_t& request() const {
    return req_;
  }
  server_context& context() {
    return *ctx_;
  }
  void set_identity(std::string who) {
    identity_ = std::move(who);
  }
  bool answered() const {
    return answered_;
  }
  /// The hash of the caller's token, once authenticated.
  const std::string& token_key() const {
    return token_key_;
  }
  void set_token_key(std::string hash) {
    token_key_ = std::move(hash);
  }

  void respond(int status, std::string body,
               const char* content_type = "application/json",
               const char* extra_name = nullptr,
               const std::string& extra_value = {}) {
    auto resp = req_->create_response(
      restinio::http_status_line_t{restinio::http_status_code_t{
                                     static_cast<std::uint16_t>(status)},
                                   reason(status)});
    resp.append_header(restinio::http_field::content_type, content_type);
    if (!extra_name || strcasecmp(extra_name, "Cache-Control") != 0)
      resp.append_header(restinio::http_field::cache_control, "no-store");
    if (extra_name)
      resp.append_header(extra_name, extra_value);
    add_cors(resp);
    resp.set_body(std::move(body));
    send(resp, status);
  }

  /// Starts a streamed 200 (chunked): the headers of every answer. The
  /// caller appends and flushes chunks, then calls end_stream.
  template <class Resp>
  void begin_stream(Resp& resp, const char* content_type) {
    resp.append_header(restinio::http_field::content_type, content_type);
    resp.append_header(restinio::http_field::cache_control, "no-store");
    add_cors(resp);
    resp.append_header("Content-Security-Policy", content_security_policy);
    resp.append_header("X-Content-Type-Options", "nosniff");
    resp.append_header("Referrer-Policy", "no-referrer");
  }

  template <class Resp>
  void end_stream(Resp& resp) {
    record(200);
    resp.done();
    if (!answered_) {
      answered_ = true;
      ctx_->unanswered.fetch_sub(1);
    }
  }

  /// Sends a response built by the caller, counted and logged like the
  /// others.
  template <class Resp>
  void send(Resp& resp, int status) {
    // Counted before it is sent: a client that reads /metrics right after
    // this response must find it there.
    record(status);
    // On every answer, the UI's and the API's alike (SPEC §10): the UI
    // needs no inline script or style, and its WebSocket is same-origin.
    resp.append_header("Content-Security-Policy", content_security_policy);
    resp.append_header("X-Content-Type-Options", "nosniff");
    resp.append_header("Referrer-Policy", "no-referrer");
    resp.done();
    if (!answered_) {
      answered_ = true;
      ctx_->unanswered.fetch_sub(1);
    }
  }

  void json_reply(int status, const json& body) {
    respond(status, json_body(body));
  }
  void json_reply(int status, std::string body) {
    respond(status, std::move(body));
  }

  void problem_reply(int status, const std::string& detail,
                     const std::vector<field_error>& errors = {}) {
    respond(status, problem_body(status, detail, errors),
            "application/problem+json",
            status == 401 ? "WWW-Authenticate" : nullptr,
            "Bearer realm=\"hitl\"");
  }

  /// 429, with Retry-After when the client can be told when to come back.
  void too_many(const std::string& detail,
                std::optional<std::chrono::seconds> retry_after) {
    respond(429, problem_body(429, detail), "application/problem+json",
            retry_after ? "Retry-After" : nullptr,
            retry_after ? std::to_string(std::max<int64_t>(
                            1, static_cast<int64_t>(retry_after->count())))
                        : std::string{});
  }

  void refuse(const request_error& e) {
    problem_reply(e.status, e.detail, e.errors);
  }

  /// Maps an actor's failure to its status (SPEC §3 status codes).
  void fail(const caf::error& err) {
    int status = 500;
    switch (service_code(err)) {
      case service_errc::not_found:
        status = 404;
        break;
      case service_errc::conflict:
        status = 409;
        break;
      case service_errc::self_approval:
        status = 403;
        break;
      case service_errc::invalid:
        status = 422;
        break;
      case service_errc::unavailable:
        status = 503;
        break;
      case service_errc::internal:
        status = 500;
        break;
    }
    if (status == 500)
      spdlog::error("{} {}: {}", method(), route_, service_detail(err));
    problem_reply(status, status == 500 ? "internal error; see the server log"
                                        : service_detail(err));
  }

  std::string method() const {
    return std::string{req_->header().method().c_str()};
  }

private:
  static std::string reason(int status) {
    switch (status) {
      case 200:
        return "OK";
      case 201:
        return "Created";
      case 204:
        return "No Content";
      default:
        return problem(status, "", {})["title"].get<std::string>();
    }
  }

  static constexpr const char* content_security_policy
    = "default-src 'self'; script-src 'self'; style-src 'self'; "
      "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
      "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

  template <class Resp>
  void add_cors(Resp& resp) {
    auto origin = req_->header().try_get_field("Origin");
    if (!origin)
      return;
    for (const auto& allowed : ctx_->opts.cors_origins)
      if (allowed == *origin) {
        resp.append_header("Access-Control-Allow-Origin", *origin);
        resp.append_header("Vary", "Origin");
        return;
      }
  }

  void record(int status) {
    auto secs = std::chrono::duration<double>(clock_type::now() - started_)
                  .count();
    auto m = method();
    ctx_->requests
      ->Add({{"method", m}, {"route", route_}, {"status", std::to_string(status)}})
      .Increment();
    ctx_->durations
      ->Add({{"method", m}, {"route", route_}},
            prometheus::Histogram::BucketBoundaries{
              0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
              1, 2.5, 5, 10, 30, 60})
      .Observe(secs);
    // One line per request: never the token, never the body.
    spdlog::info("{} {} {} {:.2f}ms {}", m, route_, status, secs * 1e3,
                 identity_);
  }

  // Declared first, destroyed last: req_ needs the io_context it holds.
  std::shared_ptr<server_context> ctx_;
  restinio::request_handle_t req_;
  const char* route_;
  clock_type::time_point started_;
  std::string identity_ = "-";
  std::string token_key_;
  bool answered_ = false;
};

using exchange_ptr = std::shared_ptr<exchange>;

/// Sends one request to an actor through a bridge (http/bridge.hpp) and
/// hands the answer to `on_ok`, a failure (a timeout among them) to
/// `on_error`. Whatever either throws (a JSON dump, a bug), the client gets
/// its 500 first, never an empty reply, and the exchange is done with (a
/// stop waits for it); the bridge logs it, counts it and goes on.
template <class Handle, class OnOk, class OnError, class... Ts>
void ask_or(const exchange_ptr& ex, const Handle& target,
            std::chrono::seconds timeout, OnOk on_ok, OnError on_error,
            Ts... xs) {
  auto& ctx = ex->context();
  const auto& via = ctx.bridges[ctx.next_bridge++ % ctx.bridges.size()];
  auto answer = [ex] {
    if (!ex->answered())
      ex->problem_reply(500, "internal error; see the server log");
  };
  caf::anon_send(via, bridge_job{answering(
                        [=](caf::event_based_actor* self) {
                          self->request(target, timeout, xs...)
                            .then(answering(on_ok, answer),
                                  answering(on_error, answer));
                        },
                        answer)});
}

/// As ask_or, with failures answered as problems (see exchange::fail).
template <class Handle, class OnOk, class... Ts>
void ask(const exchange_ptr& ex, const Handle& target,
         std::chrono::seconds timeout, OnOk on_ok, Ts... xs) {
  ask_or(ex, target, timeout, std::move(on_ok),
         [ex](caf::error& err) { ex->fail(err); }, std::move(xs)...);
}

// -- authentication -----------------------------------------------------------

caller caller_of(const exchange& ex, const token_info& t) {
  const auto& req = *ex.request();
  caller c;
  c.name = t.name;
  c.role = t.role;
  c.token_id = t.id;
  c.ip_address = req.remote_endpoint().address().to_string();
  if (auto ua = req.header().try_get_field("User-Agent"))
    c.user_agent = storable_text(*ua, 512);
  return c;
}

/// The bearer token of the request: from the Authorization header, or for a
/// browser's WebSocket from the subprotocol `bearer.<token>`.
std::optional<std::string> bearer_token(const restinio::request_t& req) {
  if (auto auth = req.header().try_get_field("Authorization")) {
    static constexpr std::string_view scheme = "Bearer ";
    if (auth->size() > scheme.size()
        && strncasecmp(auth->c_str(), "bearer ", scheme.size()) == 0)
      return auth->substr(scheme.size());
    return std::nullopt;
  }
  return std::nullopt;
}

/// The key failed authentications are counted under: an IPv4 address, or
/// the /64 of an IPv6 one (a single host is commonly given a whole /64).
std::string client_key(const restinio::request_t& req) {
  auto addr = req.remote_endpoint().address();
  if (!addr.is_v6() || addr.to_v6().is_v4_mapped())
    return addr.to_string();
  auto bytes = addr.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return restinio::asio_ns::ip::address_v6{bytes}.to_string() + "/64";
}

/// Authenticates and authorizes, then continues with the caller. The answer
/// is 401 without a valid token and 403 when the role may not `op`; 429
/// when the client's address presented too many bad tokens lately (SPEC
/// §10), decided before anything asks the database. A request without a
/// token costs no lookup, so it is not counted.
template <class Next>
void authorize(const exchange_ptr& ex, operation op, Next next) {
  auto& ctx = ex->context();
  auto token = bearer_token(*ex->request());
  if (!token || token->empty()) {
    ex->problem_reply(401, "a bearer token is required "
                           "(Authorization: Bearer <token>)");
    return;
  }
  auto hash = hash_token(*token);
  token_info cached;
  auto known = ctx.tokens.find(hash, cached);
  auto address = client_key(*ex->request());
  // A token known to be valid passes whatever else came from its address
  // (a NAT may hide an attacker beside a reviewer); the rest waits.
  if (known != token_cache::lookup::valid) {
    auto wait = ctx.bounds->auth_failures.blocked_for(address,
                                                      clock_type::now());
    if (wait > clock_type::duration::zero()) {
      ex->too_many("too many failed authentications from this address",
                   std::chrono::ceil<std::chrono::seconds>(wait));
      return;
    }
  }
  auto decide = [ex, op, next, hash,
                 address](const std::optional<token_info>& info) {
    if (!info || !constant_time_equal(info->token_hash, hash)) {
      ex->context().bounds->auth_failures.failed(address, clock_type::now());
      ex->problem_reply(401, "the token is unknown or revoked");
      return;
    }
    ex->set_identity(info->name);
    ex->set_token_key(hash);
    if (!may(info->role, op)) {
      ex->problem_reply(403, "the role '" + std::string{to_string(info->role)}
                               + "' may not do this");
      return;
    }
    next(caller_of(*ex, *info));
  };
  switch (known) {
    case token_cache::lookup::valid:
      decide(cached);
      return;
    case token_cache::lookup::invalid:
      decide(std::nullopt);
      return;
    case token_cache::lookup::unknown:
      break;
  }
  ask(ex, ctx.backend.reader, std::chrono::seconds(5),
      [ex, hash, decide](std::optional<token_info>& info) {
        ex->context().tokens.store(hash, info);
        decide(info);
      },
      atoms::token::value, token_lookup{hash});
}

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

/// The id in a path parameter (see parse_path_id), or std::nullopt when a
/// 404 was sent: nothing is asked about an id that cannot exist.
std::optional<std::string> path_id(const exchange_ptr& ex,
                                   restinio::string_view_t param,
                                   path_id_kind kind, const char* what) {
  std::string_view raw{param.data(), param.size()};
  auto id = parse_path_id(raw, kind);
  if (!id)
    ex->problem_reply(404, std::string{"no "} + what + " '"
                             + echoable_text(raw, 64)
                             + "': not a valid id");
  return id;
}

// -- request details ----------------------------------------------------------

query_params query_of(const restinio::request_t& req, bool& ok) {
  query_params out;
  auto parsed = restinio::try_parse_query<
    restinio::parse_query_traits::javascript_compatible>(req.header().query());
  ok = static_cast<bool>(parsed);
  if (ok)
    for (const auto& [k, v] : *parsed)
      out.emplace_back(std::string{k}, std::string{v});
  return out;
}

/// The 415 check of a JSON body; false when a response was sent. (A body
/// over max_body_bytes never gets here: the transport refused it with 413
/// before storing more than that, see http/transport_limits.hpp.)
bool acceptable_body(const exchange_ptr& ex) {
  const auto& req = *ex->request();
  // An empty body needs no Content-Type; the parser says whether one was
  // required (400) or not.
  if (req.body().empty())
    return true;
  auto ct = req.header().try_get_field(restinio::http_field::content_type);
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

/// The identity of a pending query, for its cached pages.
std::string queue_key(const pending_query& q) {
  auto rank = [](const std::optional<urgency>& u) {
    return u ? std::to_string(static_cast<int>(*u)) : std::string{"-"};
  };
  return rank(q.priority) + '/' + rank(q.severity) + '/'
         + std::to_string(static_cast<int>(q.sort)) + '/'
         + std::to_string(q.limit) + '/' + q.cursor.value_or("");
}

template <class T>
bool take(const exchange_ptr& ex, parsed<T>& p, T& out) {
  if (auto* err = std::get_if<request_error>(&p)) {
    ex->refuse(*err);
    return false;
  }
  out = std::move(std::get<T>(p));
  return true;
}

template <class Handler>
auto route(server_context& ctx, const char* name, Handler h) {
  return [&ctx, name, h](restinio::request_handle_t req,
                         restinio::router::route_params_t params) {
    auto ex = std::make_shared<exchange>(ctx, std::move(req), name);
    if (ctx.closing.load()) {
      ex->problem_reply(503, "the server is shutting down");
      return restinio::request_accepted();
    }
    try {
      h(ex, params);
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", ex->method(), name, e.what());
      ex->problem_reply(500, "internal error; see the server log");
    }
    return restinio::request_accepted();
  };
}

// -- the routes ---------------------------------------------------------------

void add_verdict_routes(router_t& r, server_context& ctx) {
  r.http_post("/hitl/patches/:patch_id/approve",
              route(ctx, "/hitl/patches/{patch_id}/approve",
                    [](exchange_ptr ex, const auto& params) {
                      auto id = path_id(ex, params["patch_id"],
                                        path_id_kind::patch_id, "patch");
                      if (!id)
                        return;
                      std::string patch = std::move(*id);
                      authorize(ex, operation::verdict, [ex, patch](caller who) {
                        if (!acceptable_body(ex))
                          return;
                        auto p = parse_approve(ex->request()->body());
                        approve_body b;
                        if (!take(ex, p, b))
                          return;
                        verdict_request v{patch, b.decision_id, b.comment,
                                          std::nullopt, std::move(who)};
                        ask(ex, ex->context().backend.supervisor, actor_timeout,
                            [ex](decision_record& rec) {
                              ex->json_reply(200, record_json(rec));
                            },
                            atoms::approve::value, v);
                      });
                    }));
  r.http_post("/hitl/patches/:patch_id/reject",
              route(ctx, "/hitl/patches/{patch_id}/reject",
                    [](exchange_ptr ex, const auto& params) {
                      auto id = path_id(ex, params["patch_id"],
                                        path_id_kind::patch_id, "patch");
                      if (!id)
                        return;
                      std::string patch = std::move(*id);
                      authorize(ex, operation::verdict, [ex, patch](caller who) {
                        if (!acceptable_body(ex))
                          return;
                        auto p = parse_reject(ex->request()->body());
                        reject_body b;
                        if (!take(ex, p, b))
                          return;
                        verdict_request v{patch, b.decision_id, b.comment,
                                          b.reason, std::move(who)};
                        ask(ex, ex->context().backend.supervisor, actor_timeout,
                            [ex](decision_record& rec) {
                              ex->json_reply(200, record_json(rec));
                            },
                            atoms::reject::value, v);
                      });
                    }));
  r.http_post("/hitl/patches/:patch_id/comment",
              route(ctx, "/hitl/patches/{patch_id}/comment",
                    [](exchange_ptr ex, const auto& params) {
                      auto id = path_id(ex, params["patch_id"],
                                        path_id_kind::patch_id, "patch");
                      if (!id)
                        return;
                      std::string patch = std::move(*id);
                      authorize(ex, operation::comment, [ex, patch](caller who) {
                        if (!acceptable_body(ex))
                          return;
                        auto p = parse_comment(ex->request()->body());
                        comment_body b;
                        if (!take(ex, p, b))
                          return;
                        verdict_request v{patch, b.decision_id, b.comment,
                                          std::nullopt, std::move(who)};
                        ask(ex, ex->context().backend.supervisor, actor_timeout,
                            [ex](comment& c) { ex->json_reply(201, to_json(c)); },
                            atoms::comment::value, v);
                      });
                    }));
  r.http_post("/hitl/patches/:patch_id/cancel",
              route(ctx, "/hitl/patches/{patch_id}/cancel",
                    [](exchange_ptr ex, const auto& params) {
                      auto id = path_id(ex, params["patch_id"],
                                        path_id_kind::patch_id, "patch");
                      if (!id)
                        return;
                      std::string patch = std::move(*id);
                      authorize(ex, operation::cancel, [ex, patch](caller who) {
                        if (!acceptable_body(ex))
                          return;
                        auto p = parse_cancel(ex->request()->body());
                        cancel_body b;
                        if (!take(ex, p, b))
                          return;
                        verdict_request v{patch, b.decision_id, std::nullopt,
                                          b.reason, std::move(who)};
                        ask(ex, ex->context().backend.supervisor, actor_timeout,
                            [ex](decision_record& rec) {
                              ex->json_reply(200, record_json(rec));
                            },
                            atoms::cancel::value, v);
                      });
                    }));
}

void add_decision_routes(router_t& r, server_context& ctx) {
  r.http_post("/hitl/admin/create-decision",
              route(ctx, "/hitl/admin/create-decision",
                    [](exchange_ptr ex, const auto&) {
                      authorize(ex, operation::create, [ex](caller who) {
                        if (!acceptable_body(ex))
                          return;
                        auto p = parse_create_decision(ex->request()->body());
                        new_decision nd;
                        if (!take(ex, p, nd))
                          return;
                        ask(ex, ex->context().backend.supervisor, actor_timeout,
                            [ex](create_result& r) {
                              ex->json_reply(r.created ? 201 : 200,
                                             record_json(r.record));
                            },
                            atoms::create::value,
                            make_create_request(std::move(nd), std::move(who)));
                      });
                    }));
  r.http_get("/hitl/decisions/:decision_id",
             route(ctx, "/hitl/decisions/{decision_id}",
                   [](exchange_ptr ex, const auto& params) {
                     auto checked = path_id(ex, params["decision_id"],
                                            path_id_kind::decision_id,
                                            "decision");
                     if (!checked)
                       return;
                     std::string id = std::move(*checked);
                     authorize(ex, operation::read_decision, [ex, id](caller) {
                       bool ok = false;
                       auto q = query_of(*ex->request(), ok);
                       auto p = parse_wait_query(q);
                       int wait = 0;
                       if (!ok) {
                         ex->problem_reply(400, "malformed query string");
                         return;
                       }
                       if (!take(ex, p, wait))
                         return;
                       auto read = [ex, id] {
                         auto& ctx = ex->context();
                         // Noted before the read: a commit meanwhile makes
                         // what is read too old to keep.
                         auto generation = ctx.backend.changes->decision(id);
                         if (auto body = ctx.decisions.find(id, generation)) {
                           ex->respond(200, *body);
                           return;
                         }
                         ask(ex, ctx.backend.reader, actor_timeout,
                             [ex, id, generation](std::optional<decision_view>& v) {
                               if (!v) {
                                 ex->problem_reply(404, "no decision " + id);
                                 return;
                               }
                               auto body = std::make_shared<const std::string>(
                                 decision_view_body(v->record, v->comments,
                                                    v->audit_trail_json));
                               ex->context().decisions.store(id, body,
                                                             generation);
                               ex->respond(200, *body);
                             },
                             atoms::get::value, decision_ref{id});
                       };
                       if (wait == 0 || !valid_decision_id(id)) {
                         read();
                         return;
                       }
                       // Long-poll: the supervisor answers when the decision
                       // becomes final or the time is up; then read it. The
                       // place is held until that answer (or its timeout).
                       auto& ctx = ex->context();
                       auto place = ctx.bounds->long_polls.try_acquire(
                         ex->token_key());
                       if (!place) {
                         ex->too_many(
                           "this token has "
                             + std::to_string(
                               ctx.opts.limits.max_long_polls_per_token)
                             + " long-polls in flight already",
                           std::nullopt);
                         return;
                       }
                       auto held = std::make_shared<long_poll_held>(
                         std::move(place), ctx);
                       ask(ex, ctx.backend.supervisor,
                           std::chrono::seconds(wait + 10),
                           [read, held](bool) { read(); }, atoms::wait::value,
                           decision_wait{id, wait});
                     });
                   }));
}

void add_read_routes(router_t& r, server_context& ctx) {
  r.http_get(
    "/hitl/patches/pending",
    route(ctx, "/hitl/patches/pending", [](exchange_ptr ex, const auto&) {
      authorize(ex, operation::read_queue, [ex](caller) {
        bool ok = false;
        auto q = query_of(*ex->request(), ok);
        if (!ok) {
          ex->problem_reply(400, "malformed query string");
          return;
        }
        auto p = parse_pending_query(q);
        pending_query pq;
        if (!take(ex, p, pq))
          return;
        pending_filter f{pq.priority, pq.severity, pq.sort, std::nullopt,
                         pq.limit};
        if (pq.cursor) {
          f.after = decode_cursor(*pq.cursor, pq.sort);
          if (!f.after) {
            ex->problem_reply(400, "the cursor does not belong to this query",
                              {{"cursor", "is not a cursor of this sort"}});
            return;
          }
        }
        auto& ctx = ex->context();
        auto key = queue_key(pq);
        auto generation = ctx.backend.changes->queue();
        if (auto page = ctx.queue_pages.find(key, generation)) {
          ex->respond(200, pending_body(*page, now()));
          return;
        }
        auto sort = pq.sort;
        ask(ex, ctx.backend.reader, actor_timeout,
            [ex, sort, key, generation](pending_page& page) {
              auto rendered = std::make_shared<const rendered_pending>(
                render_pending(page, sort));
              ex->context().queue_pages.store(key, rendered, generation);
              ex->respond(200, pending_body(*rendered, now()));
            },
            atoms::pending::value, f);
      });
    }));
  r.http_get(
    "/hitl/analytics/summary",
    route(ctx, "/hitl/analytics/summary", [](exchange_ptr ex, const auto&) {
      authorize(ex, operation::analytics, [ex](caller) {
        bool ok = false;
        auto q = query_of(*ex->request(), ok);
        if (!ok) {
          ex->problem_reply(400, "malformed query string");
          return;
        }
        auto p = parse_summary_query(q);
        summary_query sq;
        if (!take(ex, p, sq))
          return;
        auto bound = [](const std::optional<timestamp>& t) {
          return t ? format_iso(*t) : std::string{"-"};
        };
        auto& gate = ex->context().bounds->summary_scans;
        auto in = gate.admit(bound(sq.since) + "/" + bound(sq.until),
                             clock_type::now());
        if (in.reused) {
          ex->json_reply(200, *in.reused);
          return;
        }
        if (!in.run) {
          ex->too_many("the summary is being computed for other requests; "
                       "retry shortly", gate.retry_after());
          return;
        }
        ask(ex, ex->context().backend.reader, actor_timeout,
            [ex, run = in.run](decision_summary& s) {
              auto body = std::make_shared<const std::string>(
                json_body(summary_json(s)));
              run->keep(body, clock_type::now());
              ex->json_reply(200, *body);
            },
            atoms::summary::value, summary_request{sq.since, sq.until});
      });
    }));
  r.http_get(
    "/hitl/analytics/audit-logs",
    route(ctx, "/hitl/analytics/audit-logs", [](exchange_ptr ex, const auto&) {
      authorize(ex, operation::audit_logs, [ex](caller) {
        bool ok = false;
        auto q = query_of(*ex->request(), ok);
        if (!ok) {
          ex->problem_reply(400, "malformed query string");
          return;
        }
        auto p = parse_audit_query(q);
        audit_query aq;
        if (!take(ex, p, aq))
          return;
        audit_filter f{aq.decision_id, aq.action, aq.performed_by, aq.since,
                       aq.until, aq.after_seq.value_or(0), aq.limit};
        int limit = aq.limit;
        ask(ex, ex->context().backend.reader, actor_timeout,
            [ex, limit](std::vector<audit_entry>& entries) {
              ex->json_reply(200, audit_page_json(entries, limit));
            },
            atoms::audit::value, f);
      });
    }));
  r.http_get(
    "/hitl/audit/verify",
    route(ctx, "/hitl/audit/verify", [](exchange_ptr ex, const auto&) {
      authorize(ex, operation::verify_audit, [ex](caller) {
        auto& gate = ex->context().bounds->verify_scans;
        auto in = gate.admit("", clock_type::now());
        if (in.reused) {
          ex->json_reply(200, *in.reused);
          return;
        }
        if (!in.run) {
          ex->too_many("the audit trail is being verified for another "
                       "request; retry shortly", gate.retry_after());
          return;
        }
        ask(ex, ex->context().backend.reader, std::chrono::seconds(120),
            [ex, run = in.run](verification_report& rep) {
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
                body["token_mismatches"].push_back({{"token_id", m.token_id},
                                                    {"name", m.name},
                                                    {"message", m.message}});
              auto text = std::make_shared<const std::string>(json_body(body));
              run->keep(text, clock_type::now());
              ex->json_reply(200, *text);
            },
            atoms::verify::value);
      });
    }));
}

// -- the streamed audit export ------------------------------------------------

/// GET /hitl/audit/export as it goes out: chunks come from a db_reader's
/// thread, a page of entries each, and each waits until RESTinio wrote it,
/// so a slow client slows the export down instead of filling memory. The
/// headers go with the first chunk: until then a failure is still a
/// problem document. A failure after it ends the stream with an error line,
/// which no verifier takes for part of the trail.
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
      resp_->append_chunk(std::string{chunk});
      resp_->flush([written](const restinio::asio_ns::error_code& ec) {
        written->set_value(!ec);
      });
    }
    if (result.wait_for(write_timeout) != std::future_status::ready
        || !result.get())
      throw export_aborted("the client stopped reading the export");
  }

  bool started() {
    std::lock_guard<std::mutex> guard{mtx_};
    return resp_.has_value();
  }

  void finish() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_)
      return;
    closed_ = true;
    start();
    ex_->end_stream(*resp_);
  }

  void abort() {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_ || !resp_)
      return;
    closed_ = true;
    resp_->append_chunk(std::string{
      csv_ ? "error: the export failed; see the server log\n"
           : R"({"detail":"the export failed; see the server log","type":"error"})"
             "\n"});
    ex_->end_stream(*resp_);
  }

private:
  void start() {
    if (resp_)
      return;
    resp_.emplace(
      ex_->request()->create_response<restinio::chunked_output_t>());
    ex_->begin_stream(*resp_, content_type_);
  }

  exchange_ptr ex_;
  const char* content_type_;
  bool csv_;
  std::mutex mtx_;
  std::optional<restinio::response_builder_t<restinio::chunked_output_t>>
    resp_;
  bool closed_ = false;
};

/// Long enough for the whole trail to a client that keeps reading.
constexpr auto export_timeout = std::chrono::seconds(3600);

void add_export_route(router_t& r, server_context& ctx) {
  r.http_get(
    "/hitl/audit/export",
    route(ctx, "/hitl/audit/export", [](exchange_ptr ex, const auto&) {
      authorize(ex, operation::verify_audit, [ex](caller) {
        bool ok = false;
        auto params = query_of(*ex->request(), ok);
        if (!ok) {
          ex->problem_reply(400, "malformed query string");
          return;
        }
        auto q = parse_export_query(params);
        export_query query;
        if (!take(ex, q, query))
          return;
        auto& gate = ex->context().bounds->export_scans;
        auto in = gate.admit("", clock_type::now());
        if (!in.run) {
          ex->too_many("an audit export is running for another request; "
                       "retry when it ends", gate.retry_after());
          return;
        }
        auto stream = std::make_shared<export_stream>(
          ex, query.csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
          query.csv);
        export_request req;
        req.range = export_range{query.since, query.until};
        req.format = query.csv ? export_format::csv : export_format::jsonl;
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
      });
    }));
}

/// Longer than a round of health checks (3 s at most): a request waits at
/// most for the round under way.
constexpr auto health_timeout = std::chrono::seconds(10);

void add_operations_routes(router_t& r, server_context& ctx) {
  // Through a bridge to the health actor, as requests go: a bridge that does
  // not run, a supervisor or an auditor that does not answer shows here, not
  // only a database that is away. The actor shares one round of checks
  // among all requests of a second.
  r.http_get("/health", route(ctx, "/health", [](exchange_ptr ex, const auto&) {
    auto reply = [ex](const health_report& h) {
      auto check = [](bool up) { return up ? "up" : "down"; };
      ex->json_reply(
        h.ok() ? 200 : 503,
        json{{"status", h.ok() ? "ok" : "unavailable"},
             {"checks",
              {{"database",
                {{"status", check(h.database)},
                 {"latency_ms", h.database_ms}}},
               {"supervisor", {{"status", check(h.supervisor)}}},
               {"auditor", {{"status", check(h.auditor)}}}}}});
    };
    ask_or(ex, ex->context().health, health_timeout,
           [reply](health_report& h) { reply(h); },
           // The checks did not come back: nothing is known to work.
           [reply](caf::error&) { reply(health_report{}); },
           atoms::health::value);
  }));
  r.http_get("/metrics", route(ctx, "/metrics", [](exchange_ptr ex, const auto&) {
    auto text = prometheus::TextSerializer{}.Serialize(
      ex->context().backend.registry->Collect());
    ex->respond(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  }));
  r.http_get("/openapi.json",
             route(ctx, "/openapi.json", [](exchange_ptr ex, const auto&) {
               ex->respond(200, openapi_document());
             }));
  // No token: whoever keeps checkpoints needs the key to check them, and
  // a public key is public.
  r.http_get(
    "/hitl/audit/public-key",
    route(ctx, "/hitl/audit/public-key", [](exchange_ptr ex, const auto&) {
      const auto& pem = ex->context().backend.audit_public_key_pem;
      if (pem.empty()) {
        ex->problem_reply(404, "no audit signing key is configured "
                               "(audit.signing_key)");
        return;
      }
      ex->respond(200, pem, "application/x-pem-file");
    }));
}

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
    exchange ex{*ctx_, std::move(req), "refused"};
    switch (why) {
      case refusal::target_too_long:
        ex.problem_reply(414, "the request target is longer than "
                                + bytes(l.max_request_line_bytes));
        return;
      case refusal::field_too_large:
        ex.problem_reply(431, "a header field (name and value) is longer than "
                                + bytes(l.max_header_bytes));
        return;
      case refusal::fields_too_large:
        ex.problem_reply(431, "the header fields are longer than "
                                + bytes(l.max_headers_total_bytes)
                                + " in all");
        return;
      case refusal::too_many_fields:
        ex.problem_reply(431, "more than "
                                + std::to_string(l.max_header_count)
                                + " header fields");
        return;
      case refusal::body_too_large:
        ex.problem_reply(413, "the body is larger than "
                                + bytes(ctx_->opts.max_body_bytes));
        return;
      case refusal::too_slow:
        ex.problem_reply(408, "the headers must arrive within "
                                + secs(l.header_timeout)
                                + " of the request's first byte, the body "
                                  "within "
                                + secs(l.body_timeout) + " after them");
        return;
      case refusal::none:
        break;
    }
    ex.problem_reply(400, "malformed request");
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
  return ws_credentials_of(bearer_token(req), offer);
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

void add_event_stream_route(router_t& r, server_context& ctx) {
  r.http_get("/hitl/ws", [&ctx](restinio::request_handle_t req, auto) {
    auto ex = std::make_shared<exchange>(ctx, req, "/hitl/ws");
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
      return restinio::request_accepted();
    }
    ex->set_identity(info.name);
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
      return restinio::request_accepted();
    }
    if (cred.refusal) {
      ex->problem_reply(400, *cred.refusal);
      return restinio::request_accepted();
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
        return restinio::request_accepted();
      case event_stream::admission::too_many_for_token:
        ex->problem_reply(
          429, "this token already has "
                 + std::to_string(limits.max_ws_clients_per_token)
                 + " event stream clients, the most one token may have");
        return restinio::request_accepted();
    }
    // The socket leaves RESTinio here, as in restinio::websocket::basic::
    // upgrade, for our own connection (http/ws_connection.hpp says why).
    auto& conn = restinio::impl::access_req_connection(*req);
    auto* http = dynamic_cast<restinio::impl::connection_t<traits_t>*>(
      conn.get());
    if (!http) { // not an upgrade RESTinio made: cannot happen, but say so
      ctx.stream.release(info.token_hash);
      ex->problem_reply(503, "the connection cannot be upgraded");
      return restinio::request_accepted();
    }
    auto response = ws_handshake_response(std::string{*key}, cred.protocol);
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
      return restinio::request_accepted();
    }
    ctx.stream.add(id, ws, info.token_hash);
    ws->start(std::move(response));
    spdlog::info("GET /hitl/ws 101 {} ({} clients)", info.name,
                 ctx.stream.clients());
    return restinio::request_accepted();
  });
}

void add_web_routes(router_t& r, server_context& ctx) {
  auto serve = [&ctx](restinio::request_handle_t req, auto params) {
    auto ex = std::make_shared<exchange>(ctx, req, "/{ui}");
    std::string path{req->header().path()};
    auto file = params.has("file") ? params["file"] : restinio::string_view_t{};
    if (params.has("file")
        && !parse_path_id({file.data(), file.size()},
                          path_id_kind::file_name)) {
      ex->problem_reply(404, "no route for " + echoable_text(path, 200));
      return restinio::request_accepted();
    }
    if (!ctx.site) {
      ex->respond(503,
                  "<!doctype html><title>HITL</title><p>The web UI was not "
                  "built: run <code>cmake --build build</code> with npm "
                  "installed. The API is available under /hitl/.</p>",
                  "text/html; charset=utf-8");
      return restinio::request_accepted();
    }
    const static_file* f = ctx.site->find(path);
    if (!f) {
      ex->problem_reply(404, "no route for " + echoable_text(path, 200));
      return restinio::request_accepted();
    }
    ex->respond(200, f->body, f->content_type.c_str(), "Cache-Control",
                f->cache_control);
    return restinio::request_accepted();
  };
  r.http_get("/", serve);
  r.http_get("/assets/:file", serve);
  r.http_get("/:file", serve); // favicon.svg and the like
}

/// 405 with Allow for every other method on a known path; CORS preflight.
void add_method_guards(router_t& r, server_context& ctx) {
  struct guard {
    const char* path;
    const char* route;
    bool post;
  };
  static const guard guards[] = {
    {"/hitl/patches/:patch_id/approve", "/hitl/patches/{patch_id}/approve", true},
    {"/hitl/patches/:patch_id/reject", "/hitl/patches/{patch_id}/reject", true},
    {"/hitl/patches/:patch_id/comment", "/hitl/patches/{patch_id}/comment", true},
    {"/hitl/patches/:patch_id/cancel", "/hitl/patches/{patch_id}/cancel", true},
    {"/hitl/admin/create-decision", "/hitl/admin/create-decision", true},
    {"/hitl/patches/pending", "/hitl/patches/pending", false},
    {"/hitl/decisions/:decision_id", "/hitl/decisions/{decision_id}", false},
    {"/hitl/analytics/summary", "/hitl/analytics/summary", false},
    {"/hitl/analytics/audit-logs", "/hitl/analytics/audit-logs", false},
    {"/hitl/audit/verify", "/hitl/audit/verify", false},
    {"/hitl/audit/public-key", "/hitl/audit/public-key", false},
    {"/hitl/audit/export", "/hitl/audit/export", false},
    {"/health", "/health", false},
    {"/metrics", "/metrics", false},
    {"/openapi.json", "/openapi.json", false},
    {"/hitl/ws", "/hitl/ws", false},
  };
  for (const auto& g : guards) {
    const char* allow = g.post ? "POST, OPTIONS" : "GET, OPTIONS";
    r.add_handler(
      restinio::http_method_options(), g.path,
      route(ctx, g.route, [allow](exchange_ptr ex, const auto&) {
        auto& opts = ex->context().opts;
        auto origin = ex->request()->header().try_get_field("Origin");
        bool allowed = origin
                       && std::find(opts.cors_origins.begin(),
                                    opts.cors_origins.end(), *origin)
                            != opts.cors_origins.end();
        auto resp = ex->request()->create_response(restinio::status_no_content());
        resp.append_header("Allow", allow);
        if (allowed) {
          resp.append_header("Access-Control-Allow-Origin", *origin);
          resp.append_header("Access-Control-Allow-Methods", allow);
          resp.append_header("Access-Control-Allow-Headers",
                             "Authorization, Content-Type");
          resp.append_header("Access-Control-Max-Age", "600");
          resp.append_header("Vary", "Origin");
        }
        ex->send(resp, 204);
      }));
    auto wrong = g.post ? restinio::router::none_of_methods(
                            restinio::http_method_post(),
                            restinio::http_method_options())
                        : restinio::router::none_of_methods(
                            restinio::http_method_get(),
                            restinio::http_method_options());
    r.add_handler(std::move(wrong), g.path,
                  route(ctx, g.route, [allow](exchange_ptr ex, const auto&) {
                    ex->respond(405,
                                problem_body(405, "allowed methods: "
                                                    + std::string{allow}),
                                "application/problem+json", "Allow", allow);
                  }));
  }
}

restinio::request_handling_status_t
answer_unrouted(server_context& ctx, restinio::request_handle_t req) {
  exchange ex{ctx, std::move(req), "unmatched"};
  auto path = ex.request()->header().path();
  ex.problem_reply(404, "no route for "
                          + echoable_text({path.data(), path.size()}, 200));
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
  ctx->sys = &sys;
  ctx->backend = std::move(backend);
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
  ctx->site = static_site::load(locate_web_root());
  if (ctx->site)
    spdlog::info("web UI: {} bytes from {}", ctx->site->bytes(),
                 locate_web_root());
  else
    spdlog::warn("web UI not found next to the binary; serving the API only");
  ctx->bounds = std::make_unique<request_bounds>(opts.limits);
  auto router = std::make_unique<edge_router>(*ctx);
  // The router tries each route's regex in turn, after its method: the
  // busiest routes (create, GET decision) go first.
  add_decision_routes(*router, *ctx);
  add_event_stream_route(*router, *ctx);
  add_verdict_routes(*router, *ctx);
  add_read_routes(*router, *ctx);
  add_operations_routes(*router, *ctx);
  add_export_route(*router, *ctx);
  add_web_routes(*router, *ctx);
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
  ctx->health = spawn_health_check(
    sys, ctx->backend.supervisor, ctx->backend.auditor, ctx->backend.reader, ctx->backend.registry);
  std::optional<server_handle> handle;
  try {
    handle = restinio::run_async<traits_t>(
      restinio::io_context_holder_t{ctx->io}, std::move(settings),
      opts.threads);
  } catch (...) {
    for (const auto& b : ctx->bridges)
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(ctx->health, caf::exit_reason::user_shutdown);
    throw;
  }
  // Started last: nothing above may leave them running if it throws.
  ctx->feed = spawn_event_feed(sys, ctx->backend.auditor, ctx->stream,
                               ctx->backend.public_url, failures);
  ctx->token_refresher =
    spawn_token_refresher(sys, ctx->backend.reader, ctx->tokens, ctx->stream,
                          failures, ctx->backend.auditor);
  return std::make_unique<restinio_server>(std::move(ctx), std::move(*handle));
}

} // namespace hitl
