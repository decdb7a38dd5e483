#include "http/authorization.hpp"

#include "actors/atoms.hpp"
#include "http/actor_requests.hpp"
#include "http/client_text.hpp"
#include "policy/api_token.hpp"
#include "policy/sha256.hpp"

#include <strings.h>

#include <string_view>

namespace hitl {

namespace {

caller caller_of(const exchange& ex, const token_info& t) {
  caller c;
  c.name = t.name;
  c.role = t.role;
  c.token_id = t.id;
  c.ip_address = ex.remote_address();
  if (auto ua = ex.header("User-Agent"))
    c.user_agent = storable_text(*ua, 512);
  return c;
}

} // namespace

std::optional<std::string>
bearer_token(const std::optional<std::string>& authorization) {
  static constexpr std::string_view scheme = "Bearer ";
  if (authorization && authorization->size() > scheme.size()
      && strncasecmp(authorization->c_str(), "bearer ", scheme.size()) == 0)
    return authorization->substr(scheme.size());
  return std::nullopt;
}

void authorize(const exchange_ptr& ex, operation op,
               std::function<void(caller)> next) {
  auto& ctx = ex->context();
  auto token = bearer_token(ex->header("Authorization"));
  if (!token || token->empty()) {
    ex->problem_reply(401, "a bearer token is required "
                           "(Authorization: Bearer <token>)");
    return;
  }
  auto hash = hash_token(*token);
  token_info cached;
  auto known = ctx.tokens.find(hash, cached);
  auto address = ex->client_key();
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
  auto decide = [ex, op, next = std::move(next), hash,
                 address](const std::optional<token_info>& info) {
    if (!info || !constant_time_equal(info->token_hash, hash)) {
      ex->context().bounds->auth_failures.failed(address, clock_type::now());
      ex->problem_reply(401, "the token is unknown or revoked");
      return;
    }
    ex->set_identity(info->name, to_string(info->role));
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

} // namespace hitl
