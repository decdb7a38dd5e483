// The RESTinio server and its router: the only translation unit that
// instantiates RESTinio's server templates (they cost ~14 s to compile).
// Every route authenticates, validates once into domain values, sends one
// message to an actor, and answers when the actor does; no I/O thread ever
// waits on the database or on an actor.

#include "http/server.hpp"

#include "actors/atoms.hpp"
#include "actors/change_clock.hpp"
#include "actors/messages.hpp"
#include "actors/service_error.hpp"
#include "http/access_policy.hpp"
#include "http/edge_actors.hpp"
#include "http/event_stream.hpp"
#include "http/request_parsing.hpp"
#include "http/response_cache.hpp"
#include "http/response_json.hpp"
#include "http/static_site.hpp"
#include "http/token_cache.hpp"
#include "policy/decision_json.hpp"
#include "persistence/token_repository.hpp"
#include "policy/sha256.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace hitl {

const char* openapi_document(); // generated from http/openapi.json

namespace {

using router_t = restinio::router::express_router_t<>;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

struct traits_t : restinio::default_traits_t {
  using request_handler_t = router_t;
};

using server_handle = restinio::running_server_handle_t<traits_t>;

/// Longer than any single commit or read the actors allow themselves.
constexpr auto actor_timeout = std::chrono::seconds(20);

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
  token_cache tokens;
  /// Bodies of GET /hitl/decisions/{id} (≈ 2 KB each, so ≈ 32 MB when
  /// full) and pages of GET /hitl/patches/pending (≤ 60 KB each), valid
  /// while backend.changes says so.
  response_cache<std::string> decisions{16384};
  response_cache<rendered_pending> queue_pages{256};
  event_stream stream;
  std::optional<static_site> site;
  caf::actor feed;
  caf::actor token_refresher;
  /// Long-lived actors through which the routes ask the service's actors
  /// (see ask); taken in turn.
  std::vector<caf::actor> bridges;
  std::atomic<size_t> next_bridge{0};
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

  /// Sends a response built by the caller, counted and logged like the
  /// others.
  template <class Resp>
  void send(Resp& resp, int status) {
    // Counted before it is sent: a client that reads /metrics right after
    // this response must find it there.
    record(status);
    resp.done();
    if (!answered_) {
      answered_ = true;
      ctx_->unanswered.fetch_sub(1);
    }
  }

  void json_reply(int status, const json& body) {
    respond(status, body.dump());
  }
  void json_reply(int status, std::string body) {
    respond(status, std::move(body));
  }

  void problem_reply(int status, const std::string& detail,
                     const std::vector<field_error>& errors = {}) {
    respond(status, problem(status, detail, errors).dump(),
            "application/problem+json",
            status == 401 ? "WWW-Authenticate" : nullptr,
            "Bearer realm=\"hitl\"");
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
  bool answered_ = false;
};

using exchange_ptr = std::shared_ptr<exchange>;

/// Work for a bridge actor: it runs on the bridge, with the bridge as `self`.
struct bridge_job {
  std::function<void(caf::event_based_actor*)> run;
};

} // namespace
} // namespace hitl

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hitl::bridge_job)

namespace hitl {
namespace {

/// A bridge between the I/O threads and the actors: an I/O thread cannot
/// wait for an answer, so it hands the request to a bridge, which sends it
/// and runs the continuation when the answer comes. Bridges live as long as
/// the server: spawning an actor for each request cost about a tenth of the
/// service's CPU under a load of approvals.
caf::behavior bridge(caf::event_based_actor* self) {
  return {
    [=](bridge_job& job) { job.run(self); },
  };
}

/// Sends one request to an actor through a bridge and hands the answer to
/// `on_ok`; failures, a timeout among them, become problem responses.
template <class OnOk, class... Ts>
void ask(const exchange_ptr& ex, const caf::actor& target,
         std::chrono::seconds timeout, OnOk on_ok, Ts... xs) {
  auto& ctx = ex->context();
  const auto& via = ctx.bridges[ctx.next_bridge++ % ctx.bridges.size()];
  caf::anon_send(via, bridge_job{[=](caf::event_based_actor* self) {
                   self->request(target, timeout, xs...)
                     .then(on_ok, [ex](caf::error& err) { ex->fail(err); });
                 }});
}

// -- authentication -----------------------------------------------------------

caller caller_of(const exchange& ex, const token_info& t) {
  const auto& req = *ex.request();
  caller c;
  c.name = t.name;
  c.role = t.role;
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

/// Authenticates and authorizes, then continues with the caller. The answer
/// is 401 without a valid token and 403 when the role may not `op`.
template <class Next>
void authorize(const exchange_ptr& ex, operation op, Next next) {
  auto token = bearer_token(*ex->request());
  if (!token || token->empty()) {
    ex->problem_reply(401, "a bearer token is required "
                           "(Authorization: Bearer <token>)");
    return;
  }
  auto hash = hash_token(*token);
  auto decide = [ex, op, next, hash](const std::optional<token_info>& info) {
    if (!info || !constant_time_equal(info->token_hash, hash)) {
      ex->problem_reply(401, "the token is unknown or revoked");
      return;
    }
    ex->set_identity(info->name);
    if (!may(info->role, op)) {
      ex->problem_reply(403, "the role '" + std::string{to_string(info->role)}
                               + "' may not do this");
      return;
    }
    next(caller_of(*ex, *info));
  };
  token_info cached;
  switch (ex->context().tokens.find(hash, cached)) {
    case token_cache::lookup::valid:
      decide(cached);
      return;
    case token_cache::lookup::invalid:
      decide(std::nullopt);
      return;
    case token_cache::lookup::unknown:
      break;
  }
  ask(ex, ex->context().backend.reader, std::chrono::seconds(5),
      [ex, hash, decide](std::optional<token_info>& info) {
        ex->context().tokens.store(hash, info);
        decide(info);
      },
      atoms::token::value, hash);
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

/// 413 and 415 checks of a JSON body; false when a response was sent.
bool acceptable_body(const exchange_ptr& ex) {
  const auto& req = *ex->request();
  if (req.body().size() > ex->context().opts.max_body_bytes) {
    ex->problem_reply(413, "the body is larger than "
                             + std::to_string(ex->context().opts.max_body_bytes)
                             + " bytes");
    return false;
  }
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
                      std::string patch{params["patch_id"]};
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
                      std::string patch{params["patch_id"]};
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
                      std::string patch{params["patch_id"]};
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
                      std::string patch{params["patch_id"]};
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
                     std::string id{params["decision_id"]};
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
                             atoms::get::value, id);
                       };
                       if (wait == 0 || !valid_decision_id(id)) {
                         read();
                         return;
                       }
                       // Long-poll: the supervisor answers when the decision
                       // becomes final or the time is up; then read it.
                       ask(ex, ex->context().backend.supervisor,
                           std::chrono::seconds(wait + 10),
                           [read](bool) { read(); }, atoms::wait::value, id,
                           wait);
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
        ask(ex, ex->context().backend.reader, actor_timeout,
            [ex](decision_summary& s) { ex->json_reply(200, summary_json(s)); },
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
        ask(ex, ex->context().backend.reader, std::chrono::seconds(120),
            [ex](verification_report& rep) {
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
              ex->json_reply(200, body);
            },
            atoms::verify::value);
      });
    }));
}

void add_operations_routes(router_t& r, server_context& ctx) {
  r.http_get("/health", route(ctx, "/health", [](exchange_ptr ex, const auto&) {
    auto started = clock_type::now();
    auto reply = [ex, started](bool up) {
      auto ms = std::chrono::duration<double, std::milli>(clock_type::now()
                                                          - started)
                  .count();
      ex->json_reply(up ? 200 : 503,
                     {{"status", up ? "ok" : "unavailable"},
                      {"checks",
                       {{"database",
                         {{"status", up ? "up" : "down"}, {"latency_ms", ms}}}}}});
    };
    ex->context().sys->spawn([ex, reply](caf::event_based_actor* self) {
      self->request(ex->context().backend.reader, std::chrono::seconds(5),
                    atoms::ping::value)
        .then([reply](bool up) { reply(up); },
              [reply](caf::error&) { reply(false); });
    });
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
}

// -- the live event stream and the web UI ------------------------------------

namespace rws = restinio::websocket::basic;

/// The token of a WebSocket upgrade: the Authorization header, or the
/// subprotocol `bearer.<token>` (a browser cannot set headers on a
/// WebSocket). Returns the token and the subprotocol to echo, if any.
std::pair<std::string, std::string> ws_token(const restinio::request_t& req) {
  if (auto t = bearer_token(req))
    return {*t, ""};
  if (auto protos = req.header().try_get_field("Sec-WebSocket-Protocol")) {
    std::string list = *protos;
    size_t pos = 0;
    while (pos <= list.size()) {
      auto comma = list.find(',', pos);
      auto item = list.substr(pos, comma == std::string::npos ? std::string::npos
                                                              : comma - pos);
      while (!item.empty() && item.front() == ' ')
        item.erase(0, 1);
      while (!item.empty() && item.back() == ' ')
        item.pop_back();
      if (item.rfind("bearer.", 0) == 0)
        return {item.substr(7), item};
      if (comma == std::string::npos)
        break;
      pos = comma + 1;
    }
  }
  return {"", ""};
}

void add_event_stream_route(router_t& r, server_context& ctx) {
  r.http_get("/hitl/ws", [&ctx](restinio::request_handle_t req, auto) {
    auto ex = std::make_shared<exchange>(ctx, req, "/hitl/ws");
    auto [token, protocol] = ws_token(*req);
    token_info info;
    // Decided here, on the I/O thread, from the token cache that the token
    // refresher keeps filled: an upgrade cannot wait for the database.
    if (token.empty()
        || ctx.tokens.find(hash_token(token), info)
             != token_cache::lookup::valid) {
      ex->problem_reply(401, token.empty()
                               ? "a bearer token is required (Authorization "
                                 "header or subprotocol bearer.<token>)"
                               : "the token is unknown or revoked");
      return restinio::request_accepted();
    }
    ex->set_identity(info.name);
    auto upgrade = req->header().try_get_field(restinio::http_field::upgrade);
    if (!upgrade || strcasecmp(upgrade->c_str(), "websocket") != 0) {
      ex->problem_reply(400, "this is a WebSocket endpoint (Upgrade: websocket)");
      return restinio::request_accepted();
    }
    auto* stream = &ctx.stream;
    auto on_message = [stream](rws::ws_handle_t ws, rws::message_handle_t m) {
      stream->touch(ws->connection_id());
      switch (m->opcode()) {
        case rws::opcode_t::ping_frame:
          ws->send_message(rws::final_frame, rws::opcode_t::pong_frame,
                           restinio::writable_item_t{m->payload()});
          break;
        case rws::opcode_t::connection_close_frame:
          stream->remove(ws->connection_id());
          break;
        default:
          break; // the stream is one-way; anything else only shows life
      }
    };
    rws::ws_handle_t ws;
    if (protocol.empty()) {
      ws = rws::upgrade<traits_t>(*req, rws::activation_t::immediate,
                                  on_message);
    } else {
      auto key = req->header().get_field(restinio::http_field::sec_websocket_key);
      auto digest = restinio::utils::sha1::make_digest(
        key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
      ws = rws::upgrade<traits_t>(
        *req, rws::activation_t::immediate,
        restinio::utils::base64::encode(restinio::utils::sha1::to_string(digest)),
        protocol, on_message);
    }
    stream->add(ws->connection_id(), ws);
    spdlog::info("GET /hitl/ws 101 {} ({} clients)", info.name,
                 stream->clients());
    return restinio::request_accepted();
  });
}

void add_web_routes(router_t& r, server_context& ctx) {
  auto serve = [&ctx](restinio::request_handle_t req, auto) {
    auto ex = std::make_shared<exchange>(ctx, req, "/{ui}");
    std::string path{req->header().path()};
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
      ex->problem_reply(404, "no route for " + path);
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
                                problem(405,
                                        "allowed methods: " + std::string{allow},
                                        {})
                                  .dump(),
                                "application/problem+json", "Allow", allow);
                  }));
  }
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
  ctx->site = static_site::load(locate_web_root());
  if (ctx->site)
    spdlog::info("web UI: {} bytes from {}", ctx->site->bytes(),
                 locate_web_root());
  else
    spdlog::warn("web UI not found next to the binary; serving the API only");
  auto router = std::make_unique<router_t>();
  // The router tries each route's regex in turn, after its method: the
  // busiest routes (create, GET decision) go first.
  add_decision_routes(*router, *ctx);
  add_event_stream_route(*router, *ctx);
  add_verdict_routes(*router, *ctx);
  add_read_routes(*router, *ctx);
  add_operations_routes(*router, *ctx);
  add_web_routes(*router, *ctx);
  add_method_guards(*router, *ctx);
  router->non_matched_request_handler([c = ctx.get()](auto req) {
    exchange ex{*c, std::move(req), "unmatched"};
    ex.problem_reply(404, "no route for "
                            + std::string{ex.request()->header().path()});
    return restinio::request_accepted();
  });
  // RESTinio drops a connection whose body passes its own limit; ours, lower,
  // answers 413 first.
  auto transport_limit =
    std::max<uint64_t>(opts.max_body_bytes * 4, uint64_t{1} << 20);
  auto settings =
    restinio::server_settings_t<traits_t>{}
      .address(opts.host)
      .port(opts.port)
      .read_next_http_message_timelimit(std::chrono::seconds(60))
      .write_http_response_timelimit(std::chrono::seconds(30))
      .handle_request_timeout(std::chrono::seconds(90))
      .incoming_http_msg_limits(
        restinio::incoming_http_msg_limits_t{}.max_body_size(transport_limit))
      .request_handler(std::move(router));
  // Before the first request can arrive; stopped again if the start fails.
  for (size_t i = 0; i < bridge_count; ++i)
    ctx->bridges.push_back(sys.spawn(bridge));
  std::optional<server_handle> handle;
  try {
    handle = restinio::run_async<traits_t>(
      restinio::io_context_holder_t{ctx->io}, std::move(settings),
      opts.threads);
  } catch (...) {
    for (const auto& b : ctx->bridges)
      caf::anon_send_exit(b, caf::exit_reason::user_shutdown);
    throw;
  }
  // Started last: nothing above may leave them running if it throws.
  ctx->feed = spawn_event_feed(sys, ctx->backend.auditor, ctx->stream,
                               ctx->backend.public_url);
  ctx->token_refresher =
    spawn_token_refresher(sys, ctx->backend.reader, ctx->tokens);
  return std::make_unique<restinio_server>(std::move(ctx), std::move(*handle));
}

} // namespace hitl
