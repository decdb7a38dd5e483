// The token cache at the HTTP edge: expiry is honoured between reloads, and
// uses are handed out for last_used_at at most once a minute per token, and
// a token the refresher no longer lists is forgotten.

#include "http/token_cache.hpp"

#include <doctest/doctest.h>

#include <algorithm>

using namespace hitl;
using namespace std::chrono_literals;

namespace {

token_info token(int64_t id, std::optional<timestamp> expires_at) {
  token_info t;
  t.id = id;
  t.name = "t" + std::to_string(id);
  t.token_hash = "hash-" + std::to_string(id);
  t.created_at = now() - 1h;
  t.expires_at = expires_at;
  return t;
}

std::vector<int64_t> sorted(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

} // namespace

TEST_CASE("token cache: a token past its expiry is invalid at once") {
  token_cache cache{1h, 1h}; // entries outlive the expiry by far
  auto never = token(1, std::nullopt);
  auto later = token(2, now() + 1h);
  auto gone = token(3, now() - 1s);
  for (const auto& t : {never, later, gone})
    cache.store(t.token_hash, t);
  token_info out;
  CHECK(cache.find(never.token_hash, out) == token_cache::lookup::valid);
  CHECK(out.id == 1);
  CHECK(cache.find(later.token_hash, out) == token_cache::lookup::valid);
  CHECK(out.id == 2);
  CHECK(out.expires_at == later.expires_at);
  CHECK(cache.find(gone.token_hash, out) == token_cache::lookup::invalid);
  CHECK(cache.find(gone.token_hash, out) == token_cache::lookup::invalid);
  CHECK(cache.find("hash-unknown", out) == token_cache::lookup::unknown);
  // An expired token was not used.
  CHECK(sorted(cache.take_used()) == std::vector<int64_t>{1, 2});
}

TEST_CASE("token cache: uses are handed out once a minute per token") {
  token_cache cache{1h, 1h};
  auto a = token(1, std::nullopt);
  auto b = token(2, std::nullopt);
  cache.store(a.token_hash, a);
  cache.store(b.token_hash, b);
  token_info out;
  auto t0 = token_cache::clock::now();
  CHECK(cache.take_used(t0).empty()); // nothing used yet
  for (int i = 0; i < 100; ++i)
    REQUIRE(cache.find(a.token_hash, out) == token_cache::lookup::valid);
  CHECK(cache.take_used(t0) == std::vector<int64_t>{1}); // one id, not 100
  CHECK(cache.take_used(t0).empty());
  // Within the minute a's uses are not handed out again; b's first is.
  cache.find(a.token_hash, out);
  cache.find(b.token_hash, out);
  CHECK(cache.take_used(t0 + 30s) == std::vector<int64_t>{2});
  cache.find(a.token_hash, out);
  CHECK(cache.take_used(t0 + 59s).empty());
  // A minute after a was handed out, its next use is.
  cache.find(a.token_hash, out);
  CHECK(cache.take_used(t0 + 60s) == std::vector<int64_t>{1});
  // A flush that failed gives its ids back: the next one carries them.
  cache.restore_used({1});
  CHECK(cache.take_used(t0 + 61s) == std::vector<int64_t>{1});
}

TEST_CASE("token cache: a token missing from the complete active list is "
          "forgotten at once") {
  token_cache cache{1h, 1h};
  auto kept = token(1, std::nullopt);
  auto revoked = token(2, std::nullopt);
  for (const auto& t : {kept, revoked})
    cache.store(t.token_hash, t);
  cache.store("hash-bad", std::nullopt); // a refusal stays a refusal
  cache.forget_all_but({kept.token_hash});
  token_info out;
  CHECK(cache.find(kept.token_hash, out) == token_cache::lookup::valid);
  CHECK(out.id == 1);
  // Not refused from memory: the next request asks the database again,
  // which says whether it is still active.
  CHECK(cache.find(revoked.token_hash, out) == token_cache::lookup::unknown);
  CHECK(cache.find("hash-bad", out) == token_cache::lookup::invalid);
}
