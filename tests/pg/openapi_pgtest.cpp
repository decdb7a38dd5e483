// The OpenAPI document (http/openapi.json, served at GET /openapi.json)
// against the running service: every documented operation is routed, answers
// a status the document lists, with the documented media type, and the
// document's security and roles (x-roles) match what the server enforces;
// and the routes of http/route_table.cpp are exactly the documented
// operations.
// The document's own lint (Redocly) is tests/openapi/lint.sh.

#include "http/route_table.hpp"
#include "tests/pg/pg_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using namespace hitl::test;
using json = nlohmann::json;

namespace {

using route = std::pair<std::string, std::string>; // METHOD, /path/{param}

/// The routes that http/server.cpp registers, from its route table: each
/// documented route with its method, and OPTIONS for its path (every other
/// method is answered 405 there).
const std::set<route>& served_routes() {
  static const std::set<route> routes = [] {
    std::set<route> all;
    for (const auto& spec : hitl::route_table()) {
      if (!spec.documented)
        continue;
      all.insert({hitl::verb_name(spec.verb), spec.path});
      all.insert({"OPTIONS", spec.path});
    }
    return all;
  }();
  return routes;
}

const char* const http_methods[] = {"get",  "put",   "post",  "delete",
                                    "options", "head", "patch", "trace"};

std::string upper(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Every (METHOD, path) the document describes.
std::set<route> documented_routes(const json& doc) {
  std::set<route> out;
  for (const auto& [path, item] : doc.at("paths").items())
    for (const char* m : http_methods)
      if (item.contains(m))
        out.insert({upper(m), path});
  return out;
}

/// The path with plausible values for its parameters.
std::string concrete(const std::string& templ) {
  std::string out;
  for (size_t i = 0; i < templ.size();) {
    if (templ[i] != '{') {
      out += templ[i++];
      continue;
    }
    auto end = templ.find('}', i);
    REQUIRE(end != std::string::npos);
    auto name = templ.substr(i + 1, end - i - 1);
    if (name == "patch_id")
      out += "p-1";
    else if (name == "decision_id")
      out += "dec-1";
    else
      out += name + "-1";
    i = end + 1;
  }
  return out;
}

std::string make_token(const std::string& url, const std::string& name,
                       const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--database-url", url});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, r.out.find('\n'));
}

std::string media_type(const std::string& content_type) {
  auto t = content_type.substr(0, content_type.find(';'));
  while (!t.empty() && t.back() == ' ')
    t.pop_back();
  return t;
}

/// The response object of `status` in `responses` (resolving a $ref to
/// #/components/responses/...), or null when the document does not list it.
json documented_response(const json& doc, const json& responses, long status) {
  auto key = std::to_string(status);
  json r;
  if (responses.contains(key))
    r = responses.at(key);
  else if (responses.contains(key.substr(0, 1) + "XX"))
    r = responses.at(key.substr(0, 1) + "XX");
  else if (responses.contains("default"))
    r = responses.at("default");
  else
    return nullptr;
  if (r.contains("$ref")) {
    static const std::string prefix = "#/components/responses/";
    auto ref = r.at("$ref").get<std::string>();
    REQUIRE(ref.rfind(prefix, 0) == 0);
    r = doc.at("components").at("responses").at(ref.substr(prefix.size()));
  }
  return r;
}

struct call_result {
  http_response resp;
  std::string what; // "POST /path (as role)" for messages
};

struct served_api {
  std::string url = fresh_database("hitl_openapi");
  std::vector<std::pair<std::string, std::string>> tokens = {
    {"admin", make_token(url, "root", "admin")},
    {"service", make_token(url, "wargaming", "service")},
    {"reviewer", make_token(url, "alice", "reviewer")},
    {"auditor", make_token(url, "audrey", "auditor")},
  };
  served_hitl server{url};

  std::string token(const std::string& role) const {
    for (const auto& [r, t] : tokens)
      if (r == role)
        return t;
    FAIL("no token for role " << role);
    return {};
  }

  /// The operation with an empty JSON object as the body of a POST.
  call_result call(const std::string& method, const std::string& path,
                   const std::string& role) const {
    std::vector<std::string> headers;
    if (!role.empty())
      headers.push_back("Authorization: Bearer " + token(role));
    std::string body;
    if (method == "POST") {
      body = "{}";
      headers.push_back("Content-Type: application/json");
    }
    auto resp = http_request(method, server.base_url() + concrete(path), body,
                             headers);
    return {resp, method + " " + concrete(path) + " as "
                    + (role.empty() ? std::string{"nobody"} : role) + " -> "
                    + std::to_string(resp.status) + " " + resp.body};
  }
};

bool is_unrouted(const http_response& r) {
  if (r.status == 405)
    return true;
  if (r.status != 404)
    return false;
  auto body = json::parse(r.body, nullptr, false);
  return body.is_object() && body.contains("detail")
         && body["detail"].is_string()
         && body["detail"].get<std::string>().rfind("no route for", 0) == 0;
}

} // namespace

TEST_CASE("openapi: every documented operation is served as documented") {
  served_api a;
  auto got = http_request("GET", a.server.base_url() + "/openapi.json");
  REQUIRE(got.status == 200);
  CHECK(media_type(got.headers["content-type"]) == "application/json");
  json doc = json::parse(got.body, nullptr, false);
  REQUIRE_MESSAGE(!doc.is_discarded(), "GET /openapi.json is not JSON");
  REQUIRE(doc.is_object());
  REQUIRE(doc.contains("openapi"));
  REQUIRE(doc["openapi"].is_string());
  CHECK(doc["openapi"].get<std::string>().rfind("3.", 0) == 0);
  REQUIRE(doc.contains("paths"));

  // The binary serves the document of the source tree it was built from.
  std::string source = __FILE__;
  auto src_doc = source.substr(0, source.rfind("/tests/pg/"))
                 + "/http/openapi.json";
  if (std::ifstream in{src_doc}; in) {
    std::stringstream text;
    text << in.rdbuf();
    CHECK_MESSAGE(json::parse(text.str(), nullptr, false) == doc,
                  "the served document differs from " << src_doc
                                                       << "; rebuild hitl");
  } else {
    MESSAGE("source tree not found (" << src_doc << "); skipped comparing");
  }

  auto global_security = doc.value("security", json::array());
  auto routes = documented_routes(doc);
  REQUIRE(!routes.empty());
  for (const auto& [method, path] : routes) {
    const auto& op = doc["paths"][path][lower(method)];
    CAPTURE(method);
    CAPTURE(path);

    // Routed, with the admin token: neither the unmatched handler's 404 nor
    // the method guard's 405.
    auto r = a.call(method, path, "admin");
    CHECK_MESSAGE(r.resp.status != 0, r.what);
    CHECK_MESSAGE(!is_unrouted(r.resp), r.what);

    // The status is one the operation lists, with its media type.
    auto listed = documented_response(doc, op.at("responses"), r.resp.status);
    CHECK_MESSAGE(!listed.is_null(), "undocumented status: " << r.what);
    if (listed.is_object() && listed.contains("content")) {
      auto type = media_type(r.resp.headers["content-type"]);
      CHECK_MESSAGE(listed["content"].contains(type),
                    "undocumented media type " << type << ": " << r.what);
    }

    // Security: `security: []` needs no token; otherwise none is 401.
    auto security = op.contains("security") ? op["security"] : global_security;
    auto anonymous = a.call(method, path, "");
    if (security.empty()) {
      CHECK_MESSAGE(anonymous.resp.status != 401, anonymous.what);
    } else {
      CHECK_MESSAGE(anonymous.resp.status == 401, anonymous.what);
      CHECK_MESSAGE(anonymous.resp.headers.count("www-authenticate") == 1,
                    anonymous.what);
    }

    // Roles: x-roles lists exactly the roles that are not refused with 403.
    if (op.contains("x-roles")) {
      std::set<std::string> allowed;
      for (const auto& role : op["x-roles"])
        allowed.insert(role.get<std::string>());
      for (const auto& [role, token] : a.tokens) {
        auto as = a.call(method, path, role);
        if (allowed.count(role))
          CHECK_MESSAGE(as.resp.status != 403, as.what);
        else
          CHECK_MESSAGE(as.resp.status == 403, as.what);
      }
    } else {
      CHECK_MESSAGE(security.empty(),
                    method << " " << path
                           << " needs a token but lists no x-roles");
    }
  }
}

TEST_CASE("openapi: the document describes exactly the served routes") {
  // The document as the binary serves it, so that this test needs no
  // source tree.
  auto url = fresh_database("hitl_openapi");
  served_hitl server{url};
  auto got = http_request("GET", server.base_url() + "/openapi.json");
  REQUIRE(got.status == 200);
  json doc = json::parse(got.body, nullptr, false);
  REQUIRE(doc.is_object());
  auto documented = documented_routes(doc);
  const auto& served = served_routes();
  for (const auto& [method, path] : served)
    CHECK_MESSAGE(documented.count({method, path}) == 1,
                  "served but not documented: " << method << " " << path);
  for (const auto& [method, path] : documented)
    CHECK_MESSAGE(served.count({method, path}) == 1,
                  "documented but not served: " << method << " " << path);
  CHECK(documented == served);

  // Unique operationIds; every operation has a summary and tags.
  std::set<std::string> ids;
  for (const auto& [path, item] : doc["paths"].items())
    for (const char* m : http_methods)
      if (item.contains(m)) {
        const auto& op = item[m];
        CAPTURE(path);
        CAPTURE(m);
        REQUIRE(op.contains("operationId"));
        CHECK(ids.insert(op["operationId"].get<std::string>()).second);
        CHECK(op.contains("summary"));
        CHECK(op.contains("tags"));
      }
}
