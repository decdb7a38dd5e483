#include "http/exchange.hpp"

#include "actors/service_error.hpp"
#include "http/request_id.hpp"
#include "http/response_json.hpp"
#include "http/restinio_exchange.hpp"
#include "http/server_context.hpp"

#include <caf/error.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <strings.h>

namespace hitl {

namespace {

restinio::request_t& req_of(const std::shared_ptr<void>& p) {
  return *static_cast<restinio::request_t*>(p.get());
}

thread_local bool inside_request_handler = false;

// See request_handler_scope. done() is thread-safe (actors call it from
// their threads), so a post to the io_context, on any of its threads, is as
// good as an actor's answer.
template <typename Output>
void hand_over(server_context& ctx,
               restinio::response_builder_t<Output>&& resp) {
  if (!inside_request_handler) {
    resp.done();
    return;
  }
  restinio::asio_ns::post(
    *static_cast<restinio::asio_ns::io_context*>(ctx.io.get()),
    [r = std::move(resp)]() mutable { r.done(); });
}

std::string reason(int status) {
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

// On every answer, the UI's and the API's alike (SPEC §10): the UI needs
// no inline script or style, and its WebSocket is same-origin.
constexpr const char* content_security_policy
  = "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

template <class Resp>
void add_common_headers(Resp& resp, const std::string& request_id) {
  resp.append_header("X-Request-Id", request_id);
  resp.append_header("Content-Security-Policy", content_security_policy);
  resp.append_header("X-Content-Type-Options", "nosniff");
  resp.append_header("Referrer-Policy", "no-referrer");
}

/// The request's Origin when the configuration allows it.
std::optional<std::string> allowed_origin(const restinio::request_t& req,
                                          const http_options& opts) {
  auto origin = req.header().try_get_field("Origin");
  if (!origin)
    return std::nullopt;
  if (std::find(opts.cors_origins.begin(), opts.cors_origins.end(), *origin)
      == opts.cors_origins.end())
    return std::nullopt;
  return std::string{*origin};
}

template <class Resp>
void add_cors(Resp& resp, const restinio::request_t& req,
              const http_options& opts) {
  if (auto origin = allowed_origin(req, opts)) {
    resp.append_header("Access-Control-Allow-Origin", *origin);
    // Read-your-writes on another node (http/read_position.hpp).
    resp.append_header("Access-Control-Expose-Headers", "X-HITL-Position");
    resp.append_header("Vary", "Origin");
  }
}

} // namespace

exchange::exchange(server_context& ctx, std::shared_ptr<void> request,
                   const char* route)
  : ctx_(ctx.shared_from_this()), req_(std::move(request)), route_(route),
    started_(clock_type::now()) {
  auto offered = req_of(req_).header().try_get_field("X-Request-Id");
  request_id_ = offered && acceptable_request_id({offered->data(),
                                                  offered->size()})
                  ? std::string{*offered}
                  : generated_request_id();
  ctx_->unanswered.fetch_add(1);
}

exchange::~exchange() {
  if (!answered_)
    ctx_->unanswered.fetch_sub(1);
}

// -- the request --------------------------------------------------------------

std::string exchange::method() const {
  return std::string{req_of(req_).header().method().c_str()};
}

std::string_view exchange::path() const {
  auto p = req_of(req_).header().path();
  return {p.data(), p.size()};
}

std::string_view exchange::body() const {
  const auto& b = req_of(req_).body();
  return {b.data(), b.size()};
}

std::optional<std::string> exchange::header(std::string_view name) const {
  auto v = req_of(req_).header().try_get_field(
    restinio::string_view_t{name.data(), name.size()});
  if (!v)
    return std::nullopt;
  return std::string{*v};
}

std::string exchange::remote_address() const {
  return req_of(req_).remote_endpoint().address().to_string();
}

std::string exchange::client_key() const {
  auto addr = req_of(req_).remote_endpoint().address();
  if (!addr.is_v6() || addr.to_v6().is_v4_mapped())
    return addr.to_string();
  auto bytes = addr.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return restinio::asio_ns::ip::address_v6{bytes}.to_string() + "/64";
}

std::optional<query_params> exchange::query() const {
  auto parsed = restinio::try_parse_query<
    restinio::parse_query_traits::javascript_compatible>(
    req_of(req_).header().query());
  if (!parsed)
    return std::nullopt;
  query_params out;
  for (const auto& [k, v] : *parsed)
    out.emplace_back(std::string{k}, std::string{v});
  return out;
}

// -- the answer ---------------------------------------------------------------

void exchange::respond(int status, std::string body, const char* content_type,
                       const char* extra_name,
                       const std::string& extra_value) {
  auto& req = req_of(req_);
  auto resp = req.create_response(restinio::http_status_line_t{
    restinio::http_status_code_t{static_cast<std::uint16_t>(status)},
    reason(status)});
  resp.append_header(restinio::http_field::content_type, content_type);
  if (!extra_name || strcasecmp(extra_name, "Cache-Control") != 0)
    resp.append_header(restinio::http_field::cache_control, "no-store");
  if (extra_name)
    resp.append_header(extra_name, extra_value);
  add_cors(resp, req, ctx_->opts);
  resp.set_body(std::move(body));
  // Counted before it is sent: a client that reads /metrics right after
  // this response must find it there.
  record(status);
  add_common_headers(resp, request_id_);
  hand_over(*ctx_, std::move(resp));
  mark_answered();
}

void exchange::json_reply(int status, const nlohmann::json& body) {
  respond(status, json_body(body));
}

void exchange::problem_reply(int status, const std::string& detail,
                             const std::vector<field_error>& errors) {
  respond(status, problem_text(status, detail, errors),
          "application/problem+json",
          status == 401 ? "WWW-Authenticate" : nullptr,
          "Bearer realm=\"hitl\"");
}

std::string
exchange::problem_text(int status, const std::string& detail,
                       const std::vector<field_error>& errors) const {
  auto doc = problem(status, detail, errors);
  doc["request_id"] = request_id_;
  return json_body(doc);
}

void exchange::too_many(const std::string& detail,
                        std::optional<std::chrono::seconds> retry_after) {
  respond(429, problem_text(429, detail), "application/problem+json",
          retry_after ? "Retry-After" : nullptr,
          retry_after ? std::to_string(std::max<int64_t>(
                          1, static_cast<int64_t>(retry_after->count())))
                      : std::string{});
}

void exchange::fail(const caf::error& err) {
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
    case service_errc::moved:
      status = 503;
      break;
    case service_errc::internal:
      status = 500;
      break;
  }
  if (status == 500)
    spdlog::error("{} {} request={}: {}", method(), route_, request_id_,
                  service_detail(err));
  problem_reply(status, status == 500 ? "internal error; see the server log"
                                      : service_detail(err));
}

void exchange::options(const char* allow) {
  auto& req = req_of(req_);
  auto resp = req.create_response(restinio::status_no_content());
  resp.append_header("Allow", allow);
  if (auto origin = allowed_origin(req, ctx_->opts)) {
    resp.append_header("Access-Control-Allow-Origin", *origin);
    resp.append_header("Access-Control-Allow-Methods", allow);
    resp.append_header("Access-Control-Allow-Headers",
                       "Authorization, Content-Type, X-HITL-Min-Position");
    resp.append_header("Access-Control-Max-Age", "600");
    resp.append_header("Vary", "Origin");
  }
  record(204);
  add_common_headers(resp, request_id_);
  hand_over(*ctx_, std::move(resp));
  mark_answered();
}

void exchange::record(int status) {
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
  if (ctx_->access) {
    access_entry e;
    e.request_id = request_id_;
    e.method = m;
    e.route = route_;
    e.status = status;
    e.duration_ms = secs * 1e3;
    e.identity = identity_;
    e.role = role_;
    e.decision_id = decision_id_;
    e.patch_id = patch_id_;
    auto remote = remote_address();
    e.remote = remote;
    ctx_->access->write(e);
  }
}

void exchange::mark_answered() {
  if (!answered_) {
    answered_ = true;
    ctx_->unanswered.fetch_sub(1);
  }
}

// -- streamed answers ---------------------------------------------------------

struct chunked_reply::impl {
  restinio::response_builder_t<restinio::chunked_output_t> resp;
};

std::unique_ptr<chunked_reply> begin_chunked(const exchange_ptr& ex,
                                             const char* content_type) {
  auto& req = req_of(ex->req_);
  auto p = std::make_unique<chunked_reply::impl>(
    chunked_reply::impl{req.create_response<restinio::chunked_output_t>()});
  p->resp.append_header(restinio::http_field::content_type, content_type);
  p->resp.append_header(restinio::http_field::cache_control, "no-store");
  add_cors(p->resp, req, ex->ctx_->opts);
  add_common_headers(p->resp, ex->request_id_);
  return std::unique_ptr<chunked_reply>(new chunked_reply(ex, std::move(p)));
}

chunked_reply::chunked_reply(exchange_ptr ex, std::unique_ptr<impl> p)
  : ex_(std::move(ex)), impl_(std::move(p)) {
}

chunked_reply::~chunked_reply() = default;

void chunked_reply::append(std::string chunk) {
  impl_->resp.append_chunk(std::move(chunk));
}

void chunked_reply::flush(std::function<void(bool written)> written) {
  impl_->resp.flush(
    [written = std::move(written)](const restinio::asio_ns::error_code& ec) {
      written(!ec);
    });
}

void chunked_reply::finish() {
  ex_->record(200);
  hand_over(*ex_->ctx_, std::move(impl_->resp));
  ex_->mark_answered();
}

request_handler_scope::request_handler_scope()
  : outer_(!inside_request_handler) {
  inside_request_handler = true;
}

request_handler_scope::~request_handler_scope() {
  if (outer_)
    inside_request_handler = false;
}

} // namespace hitl
