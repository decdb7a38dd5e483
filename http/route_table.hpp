#pragma once

// Every route of the service, written once: method, path, who may call it,
// its path parameter and its handler. Registration, the 405 answers and the
// CORS preflights (http/server.cpp) and the OpenAPI test
// (tests/pg/openapi_pgtest.cpp) all come from this table.

#include "actors/messages.hpp"
#include "http/access_policy.hpp"
#include "http/path_ids.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hitl {

class exchange;

enum class http_verb : uint8_t { get, post };

/// Who may call a route.
enum class access_kind : uint8_t {
  open,  ///< anyone: health, metrics, documents, the web UI
  token, ///< a bearer token whose role may do the route's operation
  own,   ///< the handler checks the token itself (the WebSocket upgrade)
};

/// What a handler is given, checked: the path's id and the caller.
struct route_call {
  /// The path parameter, decoded and checked (route_spec::param).
  std::string id;
  /// The path parameter as it came, for a route that checks its own.
  std::string_view raw;
  /// Who asks (access_kind::token).
  hitl::caller caller;
};

using route_handler = void (*)(const std::shared_ptr<exchange>&,
                               route_call&);

/// The path's one parameter: its rules, and what a 404 calls it.
struct path_param {
  path_id_kind kind;
  const char* what;
};

struct route_spec {
  http_verb verb;
  /// As OpenAPI writes it: /hitl/patches/{patch_id}/approve.
  const char* path;
  access_kind access;
  /// What an access_kind::token route's caller must be allowed to do.
  operation op;
  std::optional<path_param> param;
  route_handler handler;
  /// In http/openapi.json, with 405 for other methods and an OPTIONS
  /// answer; the web UI's files are not.
  bool documented = true;
  /// The route in metrics and log lines; the path when null.
  const char* label = nullptr;

  const char* name() const {
    return label ? label : path;
  }
};

/// In the order the router tries them.
const std::vector<route_spec>& route_table();

/// The path as RESTinio's express router writes it: /hitl/patches/:patch_id.
std::string express_path(std::string_view path);

/// The name of the path's parameter ("patch_id"); empty when it has none.
std::string param_name(std::string_view path);

/// "GET" or "POST".
const char* verb_name(http_verb v);

} // namespace hitl
