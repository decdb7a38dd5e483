// Tokens over their life: expiry (`hitl token create --expires-in`) through
// the real binary and HTTP, the name issued again after it, and last_used_at
// written from the uses the edge saw, at most once a minute.

#include "tests/pg/actor_shutdown.hpp"
#include "tests/pg/pg_fixture.hpp"

#include "actors/db_reader.hpp"
#include "http/edge_actors.hpp"
#include "http/event_stream.hpp"
#include "http/token_cache.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/token_repository.hpp"

#include <caf/all.hpp>
#include <doctest/doctest.h>

#include <sstream>

using namespace hitl;
using namespace hitl::test;
using namespace std::chrono_literals;

namespace {

command_result create_token(const std::string& url, const std::string& name,
                            const std::vector<std::string>& more = {}) {
  std::vector<std::string> args{"token", "create", "--name", name, "--role",
                                "reviewer", "--database-url", url};
  args.insert(args.end(), more.begin(), more.end());
  return run_hitl(args);
}

std::string token_of(const command_result& r) {
  return r.out.substr(0, r.out.find('\n'));
}

long pending_status(const served_hitl& server, const std::string& token) {
  return http_request("GET", server.base_url() + "/hitl/patches/pending", {},
                      {"Authorization: Bearer " + token})
    .status;
}

// The lines of `hitl token list` that name `name`.
std::vector<std::string> listed(const std::string& url,
                                const std::string& name) {
  auto r = run_hitl({"token", "list", "--database-url", url});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> out;
  std::istringstream lines{r.out};
  for (std::string line; std::getline(lines, line);)
    if (line.rfind(name + " ", 0) == 0)
      out.push_back(line);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string last_used(const std::string& url, const std::string& name) {
  return sql_scalar(url, "SELECT last_used_at FROM hitl_api_tokens"
                         " WHERE name = '" + name + "' AND revoked_at IS NULL");
}

// Unchanged, unless a minute has passed since `before` (then a new write
// would be right): the verdict does not depend on the machine's speed.
bool unchanged_within_the_minute(const std::string& url,
                                 const std::string& name,
                                 const std::string& before) {
  return sql_scalar(url, "SELECT last_used_at = '" + before
                           + "'::timestamptz OR '" + before
                           + "'::timestamptz < now() - interval '1 minute'"
                             " FROM hitl_api_tokens WHERE name = '"
                           + name + "' AND revoked_at IS NULL")
         == "t";
}

} // namespace

TEST_CASE("an expiring token works, then is refused after its expiry; its "
          "name may be issued again, and the list shows it expired") {
  auto url = migrated_database("hitl_token_expiry");
  served_hitl server{url};
  // 2 s, the case this is about; the longer lifetimes only come into play
  // on a machine so busy that a token expired before its first use.
  std::string name, token;
  for (auto [lifetime, seconds] :
       {std::pair{"2s", "2"}, {"20s", "20"}, {"120s", "120"}}) {
    name = std::string{"temp-"} + lifetime;
    auto created = create_token(url, name, {"--expires-in", lifetime});
    REQUIRE(created.exit_code == 0);
    token = token_of(created);
    CHECK(sql_scalar(url, "SELECT extract(epoch FROM expires_at - created_at)"
                          "::int FROM hitl_api_tokens WHERE name = '"
                            + name + "'")
          == seconds);
    auto first = pending_status(server, token);
    if (first == 200)
      break;
    // Refused only because it was already over.
    CHECK(first == 401);
    REQUIRE(sql_scalar(url, "SELECT expires_at <= now() FROM hitl_api_tokens"
                            " WHERE name = '" + name + "'")
            == "t");
    token.clear();
  }
  REQUIRE_FALSE(token.empty());
  // The list says active while the token lasts. On a machine so busy that
  // the token ran out between its first use and the list, it says expired,
  // and only if the database agrees afterwards (time only moves on).
  auto lines = listed(url, name);
  REQUIRE(lines.size() == 1);
  if (!contains(lines.at(0), " active ")) {
    CHECK(contains(lines.at(0), " expired "));
    CHECK(sql_scalar(url, "SELECT expires_at <= now() FROM hitl_api_tokens"
                          " WHERE name = '" + name + "'")
          == "t");
  }

  // It works until its expiry and is refused from then on: a refusal is
  // checked against the database's clock after the answer came.
  bool refused = eventually(
    [&] {
      auto status = pending_status(server, token);
      if (status == 200)
        return false;
      CHECK(status == 401);
      CHECK(sql_scalar(url, "SELECT expires_at <= now() FROM hitl_api_tokens"
                            " WHERE name = '" + name + "'")
            == "t");
      return true;
    },
    150s);
  REQUIRE(refused);
  // And stays refused, the WebSocket upgrade included.
  CHECK(pending_status(server, token) == 401);
  CHECK(http_request("GET", server.base_url() + "/hitl/ws", {},
                     {"Authorization: Bearer " + token, "Connection: Upgrade",
                      "Upgrade: websocket", "Sec-WebSocket-Version: 13",
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="})
          .status
        == 401);
  lines = listed(url, name);
  REQUIRE(lines.size() == 1);
  CHECK(contains(lines[0], " expired "));
  // An expired token cannot be revoked: there is nothing active to revoke.
  CHECK(run_hitl({"token", "revoke", "--name", name, "--database-url", url})
          .exit_code
        != 0);

  // The name is issued again; the old token stays refused.
  auto again = create_token(url, name);
  REQUIRE(again.exit_code == 0);
  CHECK(contains(again.err, "retired the expired token of '" + name + "'"));
  auto fresh = token_of(again);
  CHECK(pending_status(server, fresh) == 200);
  CHECK(pending_status(server, token) == 401);
  lines = listed(url, name);
  REQUIRE(lines.size() == 2);
  CHECK(contains(lines[0], " active "));
  CHECK(contains(lines[0], " never "));
  CHECK(contains(lines[1], " expired "));
  // One active token per name still holds.
  CHECK(create_token(url, name).exit_code != 0);
}

TEST_CASE("token create refuses a bad --expires-in, names it, writes nothing") {
  auto url = migrated_database("hitl_token_bad_expiry");
  for (std::string bad : {"--expires-in=90", "--expires-in=0s",
                          "--expires-in=1.5h", "--expires-in=-5m",
                          "--expires-in=10y", "--expires-in=3651d"}) {
    CAPTURE(bad);
    auto r = create_token(url, "carol", {bad});
    CHECK(r.exit_code != 0);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "--expires-in"));
    CHECK(contains(r.err, "e.g. 90s, 30m, 12h, 7d"));
  }
  // An empty value is CLI11's to refuse.
  auto empty = create_token(url, "carol", {"--expires-in="});
  CHECK(empty.exit_code != 0);
  CHECK(empty.out.empty());
  CHECK(contains(empty.err, "--expires-in"));
  CHECK(contains(create_token(url, "carol", {"--expires-in", "90"}).err,
                 "'90' has no unit"));
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_api_tokens") == "0");
  // Without the option a token never expires.
  REQUIRE(create_token(url, "carol").exit_code == 0);
  CHECK(sql_scalar(url, "SELECT expires_at IS NULL FROM hitl_api_tokens")
        == "t");
}

TEST_CASE("expired tokens: unknown to every lookup, retired by a new token "
          "of their name in the same transaction") {
  auto url = migrated_database("hitl_token_expired_repo");
  pool_options o;
  o.url = url;
  connection_pool pool{o};
  pool.transact([&](pqxx::transaction_base& txn) {
    insert_token(txn, "dave", role::reviewer, hash_token("old"), 1h);
    insert_token(txn, "erin", role::auditor, hash_token("erin"));
  });
  std::optional<token_info> found;
  pool.read([&](pqxx::transaction_base& txn) {
    found = find_active_token(txn, hash_token("old"));
  });
  REQUIRE(found);
  REQUIRE(found->expires_at);
  CHECK(state_of(*found, now()) == token_state::active);
  CHECK(state_of(*found, *found->expires_at) == token_state::expired);
  // An hour later.
  sql_exec(url, "UPDATE hitl_api_tokens SET created_at = now() - interval"
                " '2 hours', expires_at = now() - interval '1 hour'"
                " WHERE name = 'dave'");
  std::vector<token_info> active;
  bool revoked = true;
  pool.read([&](pqxx::transaction_base& txn) {
    found = find_active_token(txn, hash_token("old"));
    active = list_active_tokens(txn);
  });
  CHECK_FALSE(found);
  REQUIRE(active.size() == 1);
  CHECK(active[0].name == "erin");
  CHECK_FALSE(active[0].expires_at);
  pool.transact([&](pqxx::transaction_base& txn) {
    revoked = revoke_token(txn, "dave");
  });
  CHECK_FALSE(revoked);
  // The index still holds the name: without retiring, no new token.
  try {
    pool.transact([&](pqxx::transaction_base& txn) {
      insert_token(txn, "dave", role::reviewer, hash_token("new"));
    });
    FAIL("a second token for a name whose token is not retired");
  } catch (const db_error& e) {
    CHECK(e.code == db_errc::conflict);
  }
  bool retired = false;
  pool.transact([&](pqxx::transaction_base& txn) {
    retired = retire_expired_token(txn, "dave");
    insert_token(txn, "dave", role::reviewer, hash_token("new"));
  });
  CHECK(retired);
  std::vector<token_info> all;
  pool.read([&](pqxx::transaction_base& txn) { all = list_tokens(txn); });
  REQUIRE(all.size() == 3);
  CHECK(state_of(all[0], now()) == token_state::active);
  CHECK(state_of(all[2], now()) == token_state::expired); // not "revoked"
  CHECK(all[2].name == "dave");
  CHECK(all[2].revoked_at);
  // A token that is still valid is never retired.
  pool.transact([&](pqxx::transaction_base& txn) {
    retired = retire_expired_token(txn, "erin");
  });
  CHECK_FALSE(retired);
}

TEST_CASE("touch_tokens: one statement for many tokens, each written at "
          "most once a minute") {
  auto url = migrated_database("hitl_token_touch");
  pool_options o;
  o.url = url;
  connection_pool pool{o};
  std::vector<int64_t> ids;
  pool.transact([&](pqxx::transaction_base& txn) {
    for (auto name : {"a", "b", "c"})
      insert_token(txn, name, role::reviewer, hash_token(name));
    for (const auto& t : list_tokens(txn))
      if (t.name != "c")
        ids.push_back(t.id);
  });
  size_t touched = 0;
  pool.transact([&](pqxx::transaction_base& txn) {
    touched = touch_tokens(txn, ids);
  });
  CHECK(touched == 2);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_api_tokens"
                        " WHERE last_used_at IS NOT NULL")
        == "2");
  CHECK(last_used(url, "c").empty()); // not used
  pool.transact([&](pqxx::transaction_base& txn) {
    touched = touch_tokens(txn, ids);
  });
  CHECK(touched == 0); // within the minute
  sql_exec(url, "UPDATE hitl_api_tokens SET last_used_at = now() - interval"
                " '61 seconds' WHERE name = 'a'");
  pool.transact([&](pqxx::transaction_base& txn) {
    touched = touch_tokens(txn, ids) + touch_tokens(txn, {});
  });
  CHECK(touched == 1);
}

TEST_CASE("the token refresher writes the uses the cache saw to "
          "last_used_at, once a minute, and never loads an expired token") {
  auto url = migrated_database("hitl_token_refresher");
  for (auto name : {"alice", "bob"})
    REQUIRE(create_token(url, name).exit_code == 0);
  pool_options o;
  o.url = url;
  connection_pool pool{o};
  pool.transact([&](pqxx::transaction_base& txn) {
    insert_token(txn, "gone", role::reviewer, hash_token("gone"), 1h);
  });
  sql_exec(url, "UPDATE hitl_api_tokens SET created_at = now() - interval"
                " '2 hours', expires_at = now() - interval '1 hour'"
                " WHERE name = 'gone'");
  std::string alice_hash, bob_hash;
  pool.read([&](pqxx::transaction_base& txn) {
    for (const auto& t : list_tokens(txn)) {
      if (t.name == "alice")
        alice_hash = t.token_hash;
      if (t.name == "bob")
        bob_hash = t.token_hash;
    }
  });
  REQUIRE_FALSE(alice_hash.empty());
  REQUIRE_FALSE(bob_hash.empty());

  token_cache cache;
  event_stream stream; // outlives the actor system, as in the server
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  auto reader = spawn_db_reader(sys, pool, 1);
  auto refresher = spawn_token_refresher(sys, reader, cache, stream);
  // The reader's worker is detached: stopped on every way out.
  actor_stopper stop{sys, {refresher, reader}};

  // Nothing but the refresher fills this cache: once alice is found, the
  // refresher loaded her (and the find counts as her use).
  token_info info;
  REQUIRE(eventually(
    [&] {
      return cache.find(alice_hash, info) == token_cache::lookup::valid;
    },
    30s));
  CHECK(cache.find(hash_token("gone"), info) == token_cache::lookup::unknown);
  REQUIRE(eventually([&] { return !last_used(url, "alice").empty(); }, 30s));
  auto first = last_used(url, "alice");
  CHECK(last_used(url, "bob").empty()); // loaded, never used

  // More uses of alice, then bob's first: once bob's is written, every
  // flush that could have carried alice's has run.
  for (int i = 0; i < 50; ++i)
    REQUIRE(cache.find(alice_hash, info) == token_cache::lookup::valid);
  REQUIRE(cache.find(bob_hash, info) == token_cache::lookup::valid);
  REQUIRE(eventually([&] { return !last_used(url, "bob").empty(); }, 30s));
  CHECK(unchanged_within_the_minute(url, "alice", first));
}

TEST_CASE("last_used_at over HTTP: set after a use, not rewritten within the "
          "minute") {
  auto url = migrated_database("hitl_token_last_used");
  auto alice = token_of(create_token(url, "alice"));
  auto bob = token_of(create_token(url, "bob"));
  served_hitl server{url};
  CHECK(last_used(url, "alice").empty());
  REQUIRE(pending_status(server, alice) == 200);
  REQUIRE(eventually([&] { return !last_used(url, "alice").empty(); }, 30s));
  auto first = last_used(url, "alice");
  for (int i = 0; i < 5; ++i)
    REQUIRE(pending_status(server, alice) == 200);
  CHECK(last_used(url, "bob").empty());
  REQUIRE(pending_status(server, bob) == 200);
  REQUIRE(eventually([&] { return !last_used(url, "bob").empty(); }, 30s));
  CHECK(unchanged_within_the_minute(url, "alice", first));
  auto lines = listed(url, "alice");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].back() != '-'); // the list shows the last use
}
