#pragma once

// The transport's part of SPEC §10: how much of one request the server
// stores, and for how long it waits for it, enforced while RESTinio 0.6.16
// parses the request. Included only by http/server.cpp.
//
// Why in RESTinio's parser callbacks. RESTinio's own bounds
// (incoming_http_msg_limits_t) end in a parser error, on which the
// connection is closed without an answer; its single read timer runs from
// the end of the previous response and cannot tell headers from body. Its
// parser callbacks, though, come from
// restinio::impl::create_parser_settings<Traits::http_methods_mapper_t>()
// (http_server.hpp), so a mapper type of our own (`http_methods`, the
// default mapping unchanged) lets us specialise that function and wrap each
// callback. The wrappers stop storing as soon as a bound is passed, read the
// rest of the headers without keeping them, then end the request early,
// as RESTinio's message-complete callback does: the parser is paused and
// the request handed on with `Connection: close` and its target replaced by
// a marker that no request line can produce (a space, then the cause). The
// handler (refusal_gate in server.cpp) answers such a request 414, 431, 413
// or 408 before routing. A body whose Content-Length passes the limit is
// refused when the headers end, before any byte of it is read or reserved.
// RESTinio's and libhttp_parser's own bounds stay behind ours as a hard
// backstop (about twice ours, see backstop_limits): beyond them the
// connection is closed without an answer.
//
// Timeouts. The headers must be complete header_timeout after the
// request's first byte, the body body_timeout after the headers; a client
// that still sends but too slowly is caught by the next callback and
// answered 408. A client that sends nothing more never reaches a callback:
// RESTinio's read limit (header_timeout + body_timeout from the end of the
// previous response, or from the accept) closes it without an answer, as
// RESTinio 0.6.16 gives a parser callback no way to move that timer.
//
// Per-request state without a side table. The callbacks see only
// RESTinio's http_parser_ctx_t, and it has no room of our own; but for a
// request RESTinio never fills the header's content length and HTTP version
// (it writes them only into responses). While a request is parsed they hold
// the current phase's deadline and the bytes of its header fields so far;
// end_request() puts back the values RESTinio leaves there (0 and 1.1)
// before anything else reads the header.

#include "http/edge_limits.hpp"

// connection.hpp, which holds the callbacks, is not self-contained.
#include <restinio/all.hpp>
#include <restinio/impl/connection.hpp>

#include <http_parser.h>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <limits>
#include <string>

namespace hitl::transport {

/// Why the transport refused a request; the value is the marker's second
/// character.
enum class refusal : char {
  none = 0,
  target_too_long = 't',   // 414
  field_too_large = 'f',   // 431: one header field, name and value
  fields_too_large = 'a',  // 431: all header fields together
  too_many_fields = 'n',   // 431
  body_too_large = 'b',    // 413
  too_slow = 's',          // 408
};

/// The bounds the callbacks enforce; set by start_http_server before the
/// server runs, read-only afterwards (libhttp_parser's own header cap is
/// process-wide as well, so there is one HTTP server per process).
struct bounds {
  size_t max_target_bytes = 8192;
  size_t max_field_bytes = 8192;
  size_t max_fields_total_bytes = 65536;
  size_t max_field_count = 100;
  uint64_t max_body_bytes = 1048576;
  uint64_t header_timeout_ns = 10'000'000'000;
  uint64_t body_timeout_ns = 30'000'000'000;
};

inline bounds active_bounds;

/// Converts the configured limits; also sets libhttp_parser's cap on the
/// request line and headers to the backstop.
inline void configure(const edge_limits& l, size_t max_body_bytes) {
  auto ns = [](edge_limits::seconds s) {
    return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(s).count());
  };
  active_bounds = bounds{l.max_request_line_bytes, l.max_header_bytes,
                         l.max_headers_total_bytes, l.max_header_count,
                         max_body_bytes,           ns(l.header_timeout),
                         ns(l.body_timeout)};
  // The request line and the header block as sent, with the separators of
  // every field (": " and CRLF) and room for method and version, twice.
  uint64_t head = 2
                  * (uint64_t{l.max_request_line_bytes}
                     + l.max_headers_total_bytes + 4 * l.max_header_count
                     + 64);
  http_parser_set_max_header_size(static_cast<uint32_t>(
    std::min<uint64_t>(head, std::numeric_limits<uint32_t>::max())));
}

/// RESTinio's own bounds, about twice ours: reached only if ours failed.
inline restinio::incoming_http_msg_limits_t
backstop_limits(const edge_limits& l, size_t max_body_bytes) {
  return restinio::incoming_http_msg_limits_t{}
    .max_url_size(2 * l.max_request_line_bytes)
    .max_field_name_size(2 * l.max_header_bytes)
    .max_field_value_size(2 * l.max_header_bytes + 1)
    .max_field_count(2 * l.max_header_count)
    .max_body_size(2 * uint64_t{max_body_bytes});
}

/// The refusal a request was marked with, or none.
inline refusal refusal_of(const restinio::http_request_header_t& h) noexcept {
  const auto& t = h.request_target();
  return t.size() == 2 && t[0] == ' ' ? static_cast<refusal>(t[1])
                                      : refusal::none;
}

/// The methods mapping of RESTinio, under a type of our own: its only
/// purpose is to select the create_parser_settings specialisation below.
struct http_methods : restinio::default_http_methods_t {};

namespace detail {

using restinio::impl::http_parser_ctx_t;

inline http_parser_ctx_t& ctx_of(http_parser* p) noexcept {
  return *static_cast<http_parser_ctx_t*>(p->data);
}

// Coarse (a few ms) but about 5 ns, against about 20 for the precise clock:
// it is read in every callback, and the bounds are seconds.
inline uint64_t now_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u
         + static_cast<uint64_t>(ts.tv_nsec);
}

// -- the request's own state, kept in the header (see the top) --------------

inline void start_phase(http_parser_ctx_t& c, uint64_t timeout_ns) noexcept {
  c.m_header.content_length(now_ns() + timeout_ns);
}

inline bool overdue(const http_parser_ctx_t& c) noexcept {
  return now_ns() > c.m_header.content_length();
}

inline uint64_t field_bytes(const http_parser_ctx_t& c) noexcept {
  return (uint64_t{c.m_header.http_major()} << 16) | c.m_header.http_minor();
}

inline void set_field_bytes(http_parser_ctx_t& c, uint64_t n) noexcept {
  n = std::min<uint64_t>(n, UINT32_MAX);
  c.m_header.http_major(static_cast<uint16_t>(n >> 16));
  c.m_header.http_minor(static_cast<uint16_t>(n & 0xffff));
}

inline void add_field_bytes(http_parser_ctx_t& c, uint64_t n) noexcept {
  set_field_bytes(c, field_bytes(c) + n);
}

// The version is the one the request line gave (an HTTP/1.0 client must
// not be offered a WebSocket, for one).
inline void restore_header(const http_parser* p,
                           http_parser_ctx_t& c) noexcept {
  c.m_header.content_length(0);
  c.m_header.http_major(p->http_major);
  c.m_header.http_minor(p->http_minor);
}

// -- refusing -----------------------------------------------------------------

inline bool refused(const http_parser_ctx_t& c) noexcept {
  return refusal_of(c.m_header) != refusal::none;
}

/// From here on nothing of the request is stored; the first cause stays.
inline void mark(http_parser_ctx_t& c, refusal why) {
  if (refused(c))
    return;
  c.m_header.request_target(std::string{' ', static_cast<char>(why)});
  std::string{}.swap(c.m_current_field_name);
}

/// Hands the request on now, as restinio_message_complete_cb does, for an
/// answer that closes the connection; the parser stays paused and the
/// bytes after this point are never read.
inline int end_request(http_parser* p, http_parser_ctx_t& c) {
  http_parser_pause(p, 1);
  c.m_message_complete = true;
  c.m_header.method(http_methods::from_nodejs(p->method));
  c.m_header.should_keep_alive(false);
  // A refused upgrade request is answered like any other.
  p->upgrade = 0;
  std::string{}.swap(c.m_body);
  restore_header(p, c);
  return 0;
}

inline int refuse_now(http_parser* p, http_parser_ctx_t& c, refusal why) {
  mark(c, why);
  return end_request(p, c);
}

// -- the callbacks ------------------------------------------------------------

inline int on_message_begin(http_parser* p) noexcept {
  auto& c = ctx_of(p);
  start_phase(c, active_bounds.header_timeout_ns);
  set_field_bytes(c, 0);
  return 0;
}

inline int on_url(http_parser* p, const char* at, size_t n) {
  auto& c = ctx_of(p);
  if (overdue(c))
    return refuse_now(p, c, refusal::too_slow);
  if (refused(c))
    return 0;
  if (c.m_header.request_target().size() + n > active_bounds.max_target_bytes) {
    mark(c, refusal::target_too_long);
    return 0;
  }
  return restinio::impl::restinio_url_cb(p, at, n);
}

// RESTinio keeps the size of the current field's value in
// m_last_value_total_size; the wrappers keep name and value there instead
// (its own check against the backstop stays valid), and add each completed
// field to field_bytes.
inline int on_header_field(http_parser* p, const char* at, size_t n) {
  auto& c = ctx_of(p);
  if (overdue(c))
    return refuse_now(p, c, refusal::too_slow);
  if (refused(c))
    return 0;
  const auto& b = active_bounds;
  size_t name = n;
  if (c.m_last_was_value) {
    // A new field: the previous one, if any, is complete.
    add_field_bytes(c, c.m_last_value_total_size);
    c.m_last_value_total_size = 0;
    if (c.m_total_field_count >= b.max_field_count) {
      mark(c, refusal::too_many_fields);
      return 0;
    }
  } else {
    name += c.m_current_field_name.size();
  }
  if (name > b.max_field_bytes) {
    mark(c, refusal::field_too_large);
    return 0;
  }
  if (field_bytes(c) + name > b.max_fields_total_bytes) {
    mark(c, refusal::fields_too_large);
    return 0;
  }
  return restinio::impl::restinio_header_field_cb(p, at, n);
}

inline int on_header_value(http_parser* p, const char* at, size_t n) {
  auto& c = ctx_of(p);
  if (overdue(c))
    return refuse_now(p, c, refusal::too_slow);
  if (refused(c))
    return 0;
  const auto& b = active_bounds;
  size_t field = n
                 + (c.m_last_was_value ? c.m_last_value_total_size
                                       : c.m_current_field_name.size());
  if (field > b.max_field_bytes) {
    mark(c, refusal::field_too_large);
    return 0;
  }
  if (field_bytes(c) + field > b.max_fields_total_bytes) {
    mark(c, refusal::fields_too_large);
    return 0;
  }
  if (restinio::impl::restinio_header_value_cb(p, at, n) != 0)
    return -1;
  c.m_last_value_total_size = field;
  return 0;
}

inline int on_headers_complete(http_parser* p) {
  auto& c = ctx_of(p);
  if (overdue(c))
    return refuse_now(p, c, refusal::too_slow);
  // Trailers, if any, count on from the last field.
  add_field_bytes(c, c.m_last_value_total_size);
  c.m_last_value_total_size = 0;
  if (refused(c))
    return end_request(p, c);
  if (p->content_length != ULLONG_MAX
      && p->content_length > active_bounds.max_body_bytes)
    return refuse_now(p, c, refusal::body_too_large);
  start_phase(c, active_bounds.body_timeout_ns);
  return restinio::impl::restinio_headers_complete_cb(p);
}

inline int on_body(http_parser* p, const char* at, size_t n) {
  auto& c = ctx_of(p);
  if (overdue(c))
    return refuse_now(p, c, refusal::too_slow);
  if (c.m_body.size() + n > active_bounds.max_body_bytes)
    return refuse_now(p, c, refusal::body_too_large);
  return restinio::impl::restinio_body_cb(p, at, n);
}

// Chunk boundaries are not recorded: the service never reads them, and
// RESTinio's record (16 bytes per chunk) would let a body of 1-byte chunks
// hold several times its size. A chunk that would pass the body limit is
// refused before its bytes arrive.
inline int on_chunk_header(http_parser* p) {
  auto& c = ctx_of(p);
  if (overdue(c))
    return refuse_now(p, c, refusal::too_slow);
  // m_body never holds more than the limit, and content_length may be
  // close to 2^64.
  if (p->content_length > active_bounds.max_body_bytes - c.m_body.size())
    return refuse_now(p, c, refusal::body_too_large);
  return 0;
}

inline int on_message_complete(http_parser* p) {
  auto& c = ctx_of(p);
  // A trailer passed a bound.
  if (refused(c))
    return end_request(p, c);
  int r = restinio::impl::restinio_message_complete_cb<http_methods>(p);
  restore_header(p, c);
  return r;
}

} // namespace detail

inline http_parser_settings parser_settings() noexcept {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = detail::on_message_begin;
  s.on_url = detail::on_url;
  s.on_header_field = detail::on_header_field;
  s.on_header_value = detail::on_header_value;
  s.on_headers_complete = detail::on_headers_complete;
  s.on_body = detail::on_body;
  s.on_chunk_header = detail::on_chunk_header;
  s.on_message_complete = detail::on_message_complete;
  return s;
}

} // namespace hitl::transport

namespace restinio::impl {

/// The parser callbacks of a server whose traits name
/// hitl::transport::http_methods as their http_methods_mapper_t.
template <>
inline http_parser_settings
create_parser_settings<hitl::transport::http_methods>() noexcept {
  return hitl::transport::parser_settings();
}

} // namespace restinio::impl
