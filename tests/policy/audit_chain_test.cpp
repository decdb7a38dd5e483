#include "policy/audit_chain.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <utility>
#include <vector>

using namespace hitl;

namespace {

audit_entry fixed_entry() {
  audit_entry e;
  e.seq = 1;
  e.decision_id = "d-1";
  e.action = audit_action::approved;
  e.performed_by = "alice";
  e.at = *parse_iso("2026-01-02T03:04:05.123456Z");
  e.details_json = R"({ "reason": "ok", "approvals": 2, "comment": "été" })";
  e.ip_address = "127.0.0.1";
  return e;
}

/// A sealed chain of `n` entries, seq 1..n.
std::vector<audit_entry> make_chain(int n) {
  std::vector<audit_entry> chain;
  std::string prev{genesis_prev_hash};
  for (int i = 1; i <= n; ++i) {
    audit_entry e;
    e.seq = i;
    e.decision_id = "d-" + std::to_string((i + 1) / 2);
    e.action = i % 2 ? audit_action::created : audit_action::approved;
    e.performed_by = i % 2 ? "wargaming" : "alice";
    e.at = from_micros(1'700'000'000'000'000 + i * 1'000'000);
    e.details_json = canonical_details({{"step", i}});
    seal(e, prev);
    prev = e.hash;
    chain.push_back(e);
  }
  return chain;
}

/// Feeds the whole chain; returns the first break.
std::optional<chain_break> first_break(const std::vector<audit_entry>& rows) {
  chain_verifier v;
  for (const auto& e : rows)
    if (auto brk = v.feed(e))
      return brk;
  return std::nullopt;
}

bool mentions(const chain_break& brk, const std::string& text) {
  return brk.message.find(text) != std::string::npos;
}

} // namespace

TEST_CASE("canonical JSON and hash of a fixed entry are stable") {
  auto e = fixed_entry();
  CHECK(canonical_json(e)
        == R"({"action":"approved","decision_id":"d-1",)"
           R"("details":{"approvals":2,"comment":"été","reason":"ok"},)"
           R"("ip_address":"127.0.0.1","performed_by":"alice","seq":1,)"
           R"("timestamp":"2026-01-02T03:04:05.123456Z","user_agent":null})");
  // seal() takes the details as they are: canonical ones, as producers
  // write them, give the hash of the canonical text above.
  e.details_json = canonical_details(nlohmann::json::parse(e.details_json));
  seal(e, genesis_prev_hash);
  // printf '%s' "$(printf '0%.0s' {1..64})$canonical" | sha256sum
  CHECK(e.hash
        == "de5562a8a8795c16259b29774f7dcc0fc4ece8af40e7692b65c4103a61652644");
  CHECK(e.prev_hash == genesis_prev_hash);
  CHECK(compute_hash(e.prev_hash, canonical_json(e)) == e.hash);
}

TEST_CASE("details are hashed by content, not by formatting") {
  auto a = fixed_entry();
  auto b = fixed_entry();
  b.details_json = R"({"reason":"ok","comment":"été","approvals":2})";
  CHECK(canonical_json(a) == canonical_json(b));
  b.details_json = R"({"reason":"ok","comment":"été","approvals":3})";
  CHECK(canonical_json(a) != canonical_json(b));
  b.details_json = "[1, 2]";
  CHECK_THROWS_AS(canonical_json(b), std::invalid_argument);
}

TEST_CASE("a clean chain verifies") {
  auto chain = make_chain(6);
  chain_verifier v;
  for (const auto& e : chain)
    CHECK_FALSE(v.feed(e).has_value());
  CHECK(v.checked() == 6);
  CHECK(v.last() == chain_head{chain.back().seq, chain.back().hash});
  CHECK(chain_verifier{}.last() == chain_head{});
}

TEST_CASE("altering a row's content names that row") {
  auto chain = make_chain(6);
  SUBCASE("details") {
    chain[2].details_json = R"({"step":99})";
  }
  SUBCASE("performer") {
    chain[2].performed_by = "mallory";
  }
  SUBCASE("unparseable details") {
    chain[2].details_json = "{oops";
  }
  auto brk = first_break(chain);
  REQUIRE(brk);
  CHECK(brk->seq == 3);
  CHECK(brk->kind == break_kind::altered);
}

TEST_CASE("a row with a stale hash does not get its successor blamed") {
  auto chain = make_chain(4);
  chain[1].hash = std::string(64, 'f');
  chain_verifier v;
  CHECK_FALSE(v.feed(chain[0]));
  REQUIRE(v.feed(chain[1]));
  CHECK_FALSE(v.feed(chain[2]));
  CHECK_FALSE(v.feed(chain[3]));
}

TEST_CASE("deleting a row names the row after the gap") {
  auto chain = make_chain(6);
  chain.erase(chain.begin() + 2);
  auto brk = first_break(chain);
  REQUIRE(brk);
  CHECK(brk->seq == 4);
  CHECK(brk->kind == break_kind::removed);
  CHECK(mentions(*brk, "entry 3 is missing"));
  SUBCASE("the first row") {
    auto c = make_chain(3);
    c.erase(c.begin());
    auto b = first_break(c);
    REQUIRE(b);
    CHECK(b->seq == 2);
    CHECK(mentions(*b, "entry 1 is missing"));
  }
  SUBCASE("several rows") {
    auto c = make_chain(6);
    c.erase(c.begin() + 2, c.begin() + 4);
    auto b = first_break(c);
    REQUIRE(b);
    CHECK(b->seq == 5);
    CHECK(mentions(*b, "entries 3 to 4 are missing"));
  }
}

TEST_CASE("inserting a forged row names it") {
  auto chain = make_chain(6);
  // The forger links the row properly and renumbers everything after it,
  // keeping the stored hashes, which no longer match.
  audit_entry forged = chain[2];
  forged.performed_by = "mallory";
  forged.details_json = R"({"step":"forged"})";
  seal(forged, chain[1].hash);
  for (size_t i = 2; i < chain.size(); ++i)
    ++chain[i].seq;
  chain.insert(chain.begin() + 2, forged);
  auto brk = first_break(chain);
  REQUIRE(brk);
  CHECK(brk->seq == 3);
  CHECK(brk->kind == break_kind::inserted_or_reordered);
  CHECK(mentions(*brk, "entry 3 was inserted"));
  SUBCASE("with a repeated seq") {
    auto c = make_chain(4);
    auto dup = c[1];
    dup.performed_by = "mallory";
    seal(dup, c[1].hash);
    c.insert(c.begin() + 2, dup);
    auto b = first_break(c);
    REQUIRE(b);
    CHECK(b->seq == 2);
    CHECK(b->kind == break_kind::inserted_or_reordered);
  }
  SUBCASE("appended with a made-up link") {
    auto c = make_chain(4);
    audit_entry tail = c.back();
    tail.seq = 5;
    seal(tail, std::string(64, 'a'));
    c.push_back(tail);
    auto b = first_break(c);
    REQUIRE(b);
    CHECK(b->seq == 5);
    CHECK(b->kind == break_kind::inserted_or_reordered);
  }
}

TEST_CASE("swapping two rows' contents names the first of them") {
  auto chain = make_chain(6);
  SUBCASE("content only, hashes stay") {
    std::swap(chain[1].details_json, chain[3].details_json);
    std::swap(chain[1].action, chain[3].action);
    auto brk = first_break(chain);
    REQUIRE(brk);
    CHECK(brk->seq == 2);
    CHECK(brk->kind == break_kind::altered);
  }
  SUBCASE("whole rows except seq") {
    std::swap(chain[1], chain[3]);
    std::swap(chain[1].seq, chain[3].seq);
    auto brk = first_break(chain);
    REQUIRE(brk);
    CHECK(brk->seq == 2);
    CHECK(brk->kind == break_kind::inserted_or_reordered);
  }
  SUBCASE("adjacent whole rows except seq") {
    std::swap(chain[3], chain[4]);
    std::swap(chain[3].seq, chain[4].seq);
    auto brk = first_break(chain);
    REQUIRE(brk);
    CHECK(brk->seq == 4);
    CHECK(brk->kind == break_kind::inserted_or_reordered);
  }
}

TEST_CASE("break kind names") {
  CHECK(to_string(break_kind::altered) == "altered");
  CHECK(to_string(break_kind::removed) == "removed");
  CHECK(to_string(break_kind::inserted_or_reordered)
        == "inserted_or_reordered");
}

TEST_CASE("a token's entry has no decision: null in its canonical JSON") {
  audit_entry e;
  e.seq = 1;
  e.action = audit_action::token_created;
  e.performed_by = "carol";
  e.at = *parse_iso("2026-01-02T03:04:05.123456Z");
  e.details_json = canonical_details(
    {{"token_id", 7}, {"name", "alice"}, {"role", "reviewer"}});
  CHECK(canonical_json(e)
        == R"({"action":"token_created","decision_id":null,)"
           R"("details":{"name":"alice","role":"reviewer","token_id":7},)"
           R"("ip_address":null,"performed_by":"carol","seq":1,)"
           R"("timestamp":"2026-01-02T03:04:05.123456Z","user_agent":null})");
  seal(e, genesis_prev_hash);
  chain_verifier v;
  CHECK_FALSE(v.feed(e));
  // Named under a decision instead, it is another entry.
  auto moved = e;
  moved.decision_id = "d-1";
  CHECK(chain_verifier{}.feed(moved)->kind == break_kind::altered);
  CHECK(is_token_action(audit_action::token_expired));
  CHECK_FALSE(is_token_action(audit_action::created));
  CHECK(parse_audit_action("token_revoked") == audit_action::token_revoked);
}

TEST_CASE("entries sealed one after the other from a head form a chain that "
          "verifies") {
  chain_head head; // an empty chain: the genesis head
  CHECK(head.seq == 0);
  CHECK(head.hash == genesis_prev_hash);
  auto from_genesis = make_chain(3);
  std::vector<audit_entry> chain;
  for (auto e : from_genesis) {
    e.seq = 0; // seal_next numbers them
    e.prev_hash.clear();
    e.hash.clear();
    seal_next(head, e);
    chain.push_back(e);
  }
  // The same links as sealing each by hand after the one before.
  for (size_t i = 0; i < chain.size(); ++i) {
    CAPTURE(i);
    CHECK(chain[i].seq == from_genesis[i].seq);
    CHECK(chain[i].prev_hash == from_genesis[i].prev_hash);
    CHECK(chain[i].hash == from_genesis[i].hash);
  }
  CHECK(head.seq == 3);
  CHECK(head.hash == chain[2].hash);

  // Sealed after a head read from a store: the chain goes on from there,
  // and the whole of it verifies.
  chain_head stored{head.seq, head.hash};
  auto next = fixed_entry();
  next.details_json = canonical_details(nlohmann::json::parse(next.details_json));
  seal_next(stored, next);
  CHECK(next.seq == 4);
  CHECK(next.prev_hash == chain[2].hash);
  CHECK(next.hash == compute_hash(next.prev_hash, canonical_json(next)));
  CHECK(stored.seq == 4);
  CHECK(stored.hash == next.hash);
  chain.push_back(next);
  CHECK_FALSE(first_break(chain));

  // A head that is not the chain's last entry makes a link the verifier
  // refuses: what the chain guard of the database refuses too.
  chain_head stale{2, chain[1].hash};
  auto fork = fixed_entry();
  fork.details_json = next.details_json;
  seal_next(stale, fork);
  CHECK(fork.seq == 3);
  auto forked = chain;
  forked.push_back(fork);
  CHECK(first_break(forked));
}
