#pragma once

// The steps routes share, written once: the checks every route passes
// before its handler (run_route), and reading a JSON body or a query
// string into its typed value, with the refusal sent when it fails.

#include "http/exchange.hpp"
#include "http/request_error.hpp"
#include "http/route_table.hpp"

#include <optional>
#include <string_view>
#include <utility>
#include <variant>

namespace hitl {

/// Runs a route's handler once the request passed what the table asks: a
/// server that is not closing (503), the path's id (404, before anything is
/// asked about it), the caller's token and role (401/403/429). An exception
/// is answered 500 and logged; the server goes on.
void run_route(const route_spec& r, const exchange_ptr& ex,
               std::string_view raw_param);

/// The 415 check of a JSON body; false when a response was sent.
bool acceptable_body(const exchange_ptr& ex);

/// The value of a parse, or std::nullopt when its refusal was sent.
template <class T>
std::optional<T> take(const exchange_ptr& ex, parsed<T> p) {
  if (auto* err = std::get_if<request_error>(&p)) {
    ex->refuse(*err);
    return std::nullopt;
  }
  return std::move(std::get<T>(p));
}

/// The request's JSON body read by `parse` (415, 400 or 422 sent when it
/// is not one).
template <class T>
std::optional<T> parsed_body(const exchange_ptr& ex,
                             parsed<T> (*parse)(std::string_view)) {
  if (!acceptable_body(ex))
    return std::nullopt;
  return take(ex, parse(ex->body()));
}

/// The request's query string read by `parse` (400 or 422 sent when it is
/// not one).
template <class T>
std::optional<T> parsed_query(const exchange_ptr& ex,
                              parsed<T> (*parse)(const query_params&)) {
  auto q = ex->query();
  if (!q) {
    ex->problem_reply(400, "malformed query string");
    return std::nullopt;
  }
  return take(ex, parse(*q));
}

} // namespace hitl
