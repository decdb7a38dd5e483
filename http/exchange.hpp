#pragma once

// One request, from route to response: what the routes read of the request
// and every way they answer it, counted in http_requests_total and logged
// once. RESTinio stays behind this header (in http/exchange.cpp), so that
// the routes' files compile without it.

#include "http/request_error.hpp"

#include <caf/fwd.hpp>
#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

struct server_context;
class chunked_reply;

class exchange {
public:
  /// Made by make_exchange (http/restinio_exchange.hpp) from RESTinio's
  /// request handle, held here without its type.
  exchange(server_context& ctx, std::shared_ptr<void> request,
           const char* route);
  ~exchange();
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  server_context& context() {
    return *ctx_;
  }

  // -- the request ------------------------------------------------------------

  std::string method() const;
  std::string_view path() const;
  std::string_view body() const;
  /// The first value of a header field, if the request has it.
  std::optional<std::string> header(std::string_view name) const;
  std::string remote_address() const;
  /// The key failed authentications are counted under: an IPv4 address,
  /// or the /64 of an IPv6 one (a single host is commonly given a whole
  /// /64).
  std::string client_key() const;
  /// The query's parameters; std::nullopt when the query string is
  /// malformed.
  std::optional<query_params> query() const;

  // -- who asks ---------------------------------------------------------------

  /// The token's name and role, for the access line.
  void set_identity(std::string who, std::string_view role = {}) {
    identity_ = std::move(who);
    role_ = role;
  }
  /// The hash of the caller's token, once authenticated.
  const std::string& token_key() const {
    return token_key_;
  }
  void set_token_key(std::string hash) {
    token_key_ = std::move(hash);
  }

  /// The request's id: its X-Request-Id when sane (http/request_id.hpp),
  /// otherwise a new one; sent back as X-Request-Id on every answer, as
  /// `request_id` in every problem document, and logged.
  const std::string& request_id() const {
    return request_id_;
  }
  /// The decision or patch the request names (its path, or a created
  /// decision's body), for the access line.
  void set_decision_id(std::string id) {
    decision_id_ = std::move(id);
  }
  void set_patch_id(std::string id) {
    patch_id_ = std::move(id);
  }

  // -- the answer -------------------------------------------------------------

  bool answered() const {
    return answered_;
  }

  void respond(int status, std::string body,
               const char* content_type = "application/json",
               const char* extra_name = nullptr,
               const std::string& extra_value = {});
  void json_reply(int status, const nlohmann::json& body);
  void json_reply(int status, std::string body) {
    respond(status, std::move(body));
  }
  void problem_reply(int status, const std::string& detail,
                     const std::vector<field_error>& errors = {});
  /// The problem document's text, with this request's id in it.
  std::string problem_text(int status, const std::string& detail,
                           const std::vector<field_error>& errors = {}) const;
  /// 429, with Retry-After when the client can be told when to come back.
  void too_many(const std::string& detail,
                std::optional<std::chrono::seconds> retry_after);
  void refuse(const request_error& e) {
    problem_reply(e.status, e.detail, e.errors);
  }
  /// Maps an actor's failure to its status (SPEC §3 status codes).
  void fail(const caf::error& err);
  /// 204 to OPTIONS: `allow` lists the path's methods; a preflight from an
  /// allowed origin gets the CORS headers too.
  void options(const char* allow);

  /// RESTinio's request handle, for http/restinio_exchange.hpp.
  const std::shared_ptr<void>& request_handle() const {
    return req_;
  }

private:
  friend class chunked_reply;
  friend std::unique_ptr<chunked_reply>
  begin_chunked(const std::shared_ptr<exchange>& ex, const char* content_type);

  /// Counts and logs the answer, once.
  void record(int status);
  void mark_answered();

  // Declared first, destroyed last: req_ needs the io_context it holds.
  std::shared_ptr<server_context> ctx_;
  std::shared_ptr<void> req_;
  const char* route_;
  std::chrono::steady_clock::time_point started_;
  std::string request_id_;
  std::string identity_;
  std::string_view role_;
  std::string decision_id_;
  std::string patch_id_;
  std::string token_key_;
  bool answered_ = false;
};

using exchange_ptr = std::shared_ptr<exchange>;

/// A streamed 200 (chunked) on `ex`; the headers go with the first flush.
std::unique_ptr<chunked_reply> begin_chunked(const exchange_ptr& ex,
                                             const char* content_type);

/// A streamed 200: chunks go out as they are flushed; `written` is told
/// whether the client took them. Not thread-safe: one writer at a time.
class chunked_reply {
public:
  ~chunked_reply();
  void append(std::string chunk);
  void flush(std::function<void(bool written)> written);
  /// The end of the stream: the answer is counted and logged.
  void finish();

private:
  friend std::unique_ptr<chunked_reply>
  begin_chunked(const exchange_ptr& ex, const char* content_type);
  struct impl;
  chunked_reply(exchange_ptr ex, std::unique_ptr<impl> p);
  exchange_ptr ex_;
  std::unique_ptr<impl> impl_;
};

/// Held by the server's request handler while RESTinio runs it. An answer
/// completed meanwhile (a cache hit, a refusal at the edge) is handed to
/// RESTinio only after the handler returned: RESTinio 0.6.16 starts reading
/// the next pipelined request both after that handler returns and after the
/// answer is written, and the second start finds its one response slot
/// taken, throws, and closes the connection with requests unread, which
/// makes the kernel reset it and drop the answer still in the send buffer.
class request_handler_scope {
public:
  request_handler_scope();
  ~request_handler_scope();
  request_handler_scope(const request_handler_scope&) = delete;
  request_handler_scope& operator=(const request_handler_scope&) = delete;

private:
  bool outer_;
};

} // namespace hitl
