// The RESTinio server and its router: the only translation unit that
// instantiates RESTinio's server templates (they cost ~14 s to compile).

#include "http/server.hpp"

#include "actors/atoms.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include <chrono>
#include <stdexcept>

namespace hitl {

namespace {

using router_t = restinio::router::express_router_t<>;

struct traits_t : restinio::default_traits_t {
  using request_handler_t = router_t;
};

using server_handle = restinio::running_server_handle_t<traits_t>;

constexpr auto actor_timeout = std::chrono::seconds(5);

void send_json(const restinio::request_handle_t& req,
               restinio::http_status_line_t status, const nlohmann::json& body,
               const char* content_type = "application/json") {
  req->create_response(std::move(status))
    .append_header(restinio::http_field::content_type, content_type)
    .append_header(restinio::http_field::cache_control, "no-store")
    .set_body(body.dump())
    .done();
}

// -- routes -------------------------------------------------------------------

void add_health(router_t& router, caf::actor_system& sys, caf::actor reader) {
  router.http_get("/health", [&sys, reader](auto req, auto) {
    auto started = std::chrono::steady_clock::now();
    sys.spawn([req, reader, started](caf::event_based_actor* self) {
      auto reply = [req, started](bool up) {
        auto ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - started)
                    .count();
        nlohmann::json body{
          {"status", up ? "ok" : "unavailable"},
          {"checks",
           {{"database",
             {{"status", up ? "up" : "down"}, {"latency_ms", ms}}}}}};
        send_json(req,
                  up ? restinio::status_ok()
                     : restinio::status_service_unavailable(),
                  body);
      };
      self->request(reader, actor_timeout, atoms::ping::value)
        .then([reply](bool up) { reply(up); },
              [reply](caf::error&) { reply(false); });
    });
    return restinio::request_accepted();
  });
}

class restinio_server : public http_server {
public:
  explicit restinio_server(server_handle h) : handle_(std::move(h)) {
  }
  ~restinio_server() override {
    stop();
  }
  void stop() override {
    if (handle_) {
      handle_->stop();
      handle_->wait();
      handle_.reset();
    }
  }

private:
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
  auto router = std::make_unique<router_t>();
  add_health(*router, sys, *backend.reader);
  router->non_matched_request_handler([](auto req) {
    nlohmann::json body{{"type", "about:blank"},
                        {"title", "Not Found"},
                        {"status", 404},
                        {"detail", "no route for " + std::string{req->header().path()}}};
    send_json(req, restinio::status_not_found(), body,
              "application/problem+json");
    return restinio::request_accepted();
  });
  auto settings = restinio::server_settings_t<traits_t>{}
                    .address(opts.host)
                    .port(opts.port)
                    .read_next_http_message_timelimit(std::chrono::seconds(30))
                    .write_http_response_timelimit(std::chrono::seconds(30))
                    .handle_request_timeout(std::chrono::seconds(75))
                    .request_handler(std::move(router));
  auto handle = restinio::run_async<traits_t>(restinio::own_io_context(),
                                              std::move(settings),
                                              opts.threads);
  return std::make_unique<restinio_server>(std::move(handle));
}

} // namespace hitl
