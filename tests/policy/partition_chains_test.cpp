// One chain per partition after a common prefix (SPEC §5, §8): sealing,
// verification of interleaved chains, the root of their heads, checkpoints
// that carry the heads, and an export of them verified offline.

#include "policy/audit_chain.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/checkpoint_signature.hpp"
#include "policy/export_verification.hpp"
#include "policy/sha256.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace hitl;

namespace {

audit_entry entry(const std::string& decision, int n) {
  audit_entry e;
  e.decision_id = decision;
  e.action = audit_action::created;
  e.performed_by = "wargaming";
  e.at = from_micros(1'764'700'000'000'000 + n);
  e.details_json = canonical_details({{"n", n}});
  return e;
}

// A prefix of `prefix_len` entries (seq 1..), then entries alternating
// between partitions 3 and 200, `per_partition` each, with seq going on.
struct trail {
  std::vector<audit_entry> entries;
  chain_heads heads;
};

trail make_trail(int prefix_len, int per_partition) {
  trail t;
  chain_head prefix;
  int n = 0;
  for (int i = 0; i < prefix_len; ++i) {
    auto e = entry("old-" + std::to_string(i), ++n);
    seal_next(prefix, e);
    t.entries.push_back(e);
  }
  t.heads = chain_heads::after_prefix(prefix);
  int64_t seq = prefix.seq;
  for (int i = 0; i < per_partition; ++i)
    for (int p : {3, 200}) {
      auto e = entry("d-" + std::to_string(p), ++n);
      e.link = chain_link{partition_id{p}, 0, 7};
      seal_next(t.heads.partitions[static_cast<size_t>(p)], e);
      e.seq = ++seq;
      t.entries.push_back(e);
    }
  return t;
}

std::optional<chain_break> first_break(const std::vector<audit_entry>& rows) {
  chains_verifier v;
  for (const auto& e : rows)
    if (auto brk = v.feed(e))
      return brk;
  return std::nullopt;
}

audit_entry& find(trail& t, int partition, int64_t pseq) {
  for (auto& e : t.entries)
    if (e.link && e.link->partition.value == partition
        && e.link->pseq == pseq)
      return e;
  FAIL("no such entry");
  return t.entries.front();
}

// A signed checkpoint of the trail's heads, as the signer makes it.
audit_checkpoint checkpoint_of(const trail& t, const signing_key& key) {
  audit_checkpoint c;
  c.seq = t.entries.back().seq;
  c.heads = t.heads;
  c.hash = chains_root(t.heads);
  c.count = t.heads.count();
  c.at = from_micros(1'764'700'001'000'000);
  sign_checkpoint(c, key);
  return c;
}

export_report verify_lines(const std::vector<std::string>& lines,
                           const verify_key& key) {
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  std::istringstream a{text}, b{text};
  return verify_export(a, b, key);
}

} // namespace

TEST_CASE("an entry of a partition hashes its place, not its seq") {
  auto e = entry("d-1", 1);
  e.link = chain_link{partition_id{42}, 5, 9};
  e.seq = 1234;
  CHECK(canonical_json(e)
        == R"({"action":"created","decision_id":"d-1","details":{"n":1},)"
           R"("epoch":9,"ip_address":null,"partition":42,)"
           R"("performed_by":"wargaming","pseq":5,)"
           R"("timestamp":"2025-12-02T18:26:40.000001Z","user_agent":null})");
  chain_head head{4, std::string(64, 'c')};
  seal_next(head, e);
  CHECK(e.link->pseq == 5);
  CHECK(e.seq == 1234); // the database's to give
  CHECK(head == chain_head{5, e.hash});
  auto moved = e;
  moved.seq = 99;
  CHECK(compute_hash(moved.prev_hash, canonical_json(moved)) == e.hash);
  moved.link->partition = partition_id{43};
  CHECK(compute_hash(moved.prev_hash, canonical_json(moved)) != e.hash);
}

TEST_CASE("interleaved chains after a prefix verify, each from the prefix's "
          "end") {
  auto t = make_trail(2, 3);
  chains_verifier v;
  for (const auto& e : t.entries)
    CHECK_FALSE(v.feed(e));
  CHECK(v.checked() == 8);
  CHECK(v.heads() == t.heads);
  CHECK(v.heads().count() == 8);
  CHECK(find(t, 3, 1).prev_hash == t.heads.prefix.hash);
  CHECK(find(t, 200, 1).prev_hash == t.heads.prefix.hash);
  // Without a prefix, the chains start at the genesis hash.
  auto fresh = make_trail(0, 2);
  CHECK_FALSE(first_break(fresh.entries));
  CHECK(fresh.entries.front().prev_hash == genesis_prev_hash);
}

TEST_CASE("tampering in one partition's chain is named there") {
  SUBCASE("altered") {
    auto t = make_trail(1, 3);
    find(t, 200, 2).performed_by = "mallory";
    auto brk = first_break(t.entries);
    REQUIRE(brk);
    CHECK(brk->kind == break_kind::altered);
    CHECK(brk->message.find("partition 200 entry 2 (seq ") == 0);
  }
  SUBCASE("removed") {
    auto t = make_trail(1, 3);
    auto& gone = find(t, 3, 2);
    auto seq = gone.seq;
    t.entries.erase(t.entries.begin() + (&gone - t.entries.data()));
    auto brk = first_break(t.entries);
    REQUIRE(brk);
    CHECK(brk->kind == break_kind::removed);
    CHECK(brk->message.find("partition 3 entry 2 is missing before "
                            "partition 3 entry 3")
          == 0);
    CHECK(brk->seq == seq + 2);
  }
  SUBCASE("moved to another partition") {
    auto t = make_trail(1, 2);
    find(t, 3, 2).link->partition = partition_id{200};
    auto brk = first_break(t.entries);
    REQUIRE(brk);
    CHECK(brk->kind == break_kind::inserted_or_reordered);
  }
  SUBCASE("reordered by seq") {
    auto t = make_trail(1, 2);
    // Two entries of partition 3 trade seq (seq is not hashed): the rows
    // come in seq order, so its second entry comes first.
    auto& a = find(t, 3, 1);
    auto& b = find(t, 3, 2);
    std::swap(a.seq, b.seq);
    std::sort(t.entries.begin(), t.entries.end(),
              [](const auto& x, const auto& y) { return x.seq < y.seq; });
    auto brk = first_break(t.entries);
    REQUIRE(brk);
    CHECK(brk->kind == break_kind::removed);
    CHECK(brk->message.find("partition 3 entry 1 is missing before "
                            "partition 3 entry 2")
          == 0);
  }
  SUBCASE("an entry of the prefix after the partitions began") {
    auto t = make_trail(1, 1);
    auto late = entry("late", 99);
    chain_head prefix_end = t.heads.prefix;
    seal_next(prefix_end, late);
    late.seq = 100;
    t.entries.push_back(late);
    auto brk = first_break(t.entries);
    REQUIRE(brk);
    CHECK(brk->message.find("has no partition, but the common prefix ended")
          != std::string::npos);
  }
}

TEST_CASE("the root of the heads is SHA-256 of their text") {
  auto t = make_trail(2, 1);
  auto h3 = t.heads.partitions[3];
  auto h200 = t.heads.partitions[200];
  CHECK(chains_root(t.heads)
        == sha256_hex("prefix 2 " + t.heads.prefix.hash + "\n3 1 " + h3.hash
                      + "\n200 1 " + h200.hash + "\n"));
  auto other = t.heads;
  other.partitions[3].seq = 2;
  CHECK(chains_root(other) != chains_root(t.heads));
  CHECK(chains_root(chain_heads::after_prefix({}))
        == sha256_hex("prefix 0 " + std::string{genesis_prev_hash} + "\n"));
}

TEST_CASE("a checkpoint of the heads signs them and their root") {
  auto key = signing_key::generate();
  auto t = make_trail(2, 2);
  auto c = checkpoint_of(t, key);
  CHECK_FALSE(checkpoint_fault(c, key.public_key()));
  auto signed_json = nlohmann::json::parse(signed_bytes(c));
  CHECK(signed_json["prefix"] == nlohmann::json::array({2, t.heads.prefix.hash}));
  CHECK(signed_json["heads"].size() == 2);
  CHECK(signed_json["heads"][0]
        == nlohmann::json::array({3, 2, t.heads.partitions[3].hash}));

  auto parsed = parse_checkpoint_line(to_json_line(c));
  REQUIRE_MESSAGE(parsed.checkpoint, parsed.error);
  REQUIRE(parsed.checkpoint->heads);
  CHECK(*parsed.checkpoint->heads == t.heads);
  CHECK_FALSE(checkpoint_fault(*parsed.checkpoint, key.public_key()));
  auto stored = parse_heads_json(heads_json(t.heads));
  REQUIRE(stored.heads);
  CHECK(*stored.heads == t.heads);

  // Heads changed after signing: the signature no longer holds.
  auto moved = c;
  moved.heads->partitions[3].seq = 1;
  CHECK(checkpoint_fault(moved, key.public_key()));
  // Heads that are not what the signed root is the root of: refused even
  // when signed as they are.
  auto lying = c;
  lying.hash = std::string(64, 'e');
  sign_checkpoint(lying, key);
  CHECK(checkpoint_fault(lying, key.public_key())
        == std::optional<std::string>{"its hash is not the root of its heads"});
  auto miscounted = c;
  miscounted.count += 1;
  sign_checkpoint(miscounted, key);
  CHECK(checkpoint_fault(miscounted, key.public_key()));

  auto line = nlohmann::json::parse(to_json_line(c));
  line["heads"][0][0] = 300;
  CHECK(parse_checkpoint_line(line.dump()).error.find("heads:") == 0);
}

TEST_CASE("an export of interleaved chains verifies offline; a re-sealed "
          "chain contradicts the checkpoint's head") {
  auto key = signing_key::generate();
  auto t = make_trail(1, 3);
  std::vector<std::string> lines;
  for (const auto& e : t.entries)
    lines.push_back(export_entry_line(e));
  auto c = checkpoint_of(t, key);
  lines.push_back(export_checkpoint_line(c));
  auto ok = verify_lines(lines, key.public_key());
  CHECK_MESSAGE(!ok.first_fault, ok.first_fault->message);
  CHECK(ok.entries == 7);

  // A line reads back with its link.
  auto back = parse_export_entry(lines[2]);
  REQUIRE(back.entry);
  REQUIRE(back.entry->link);
  CHECK(back.entry->link->pseq == 1);
  CHECK(back.entry->hash == t.entries[2].hash);

  // Partition 200's chain re-sealed from its second entry: the entries
  // hold, the checkpoint's head of partition 200 does not.
  auto resealed = t;
  auto& from = find(resealed, 200, 2);
  from.performed_by = "mallory";
  std::string prev = from.prev_hash;
  for (auto& e : resealed.entries)
    if (e.link && e.link->partition.value == 200 && e.link->pseq >= 2) {
      seal(e, prev);
      prev = e.hash;
    }
  auto edited = lines;
  for (size_t i = 0; i < resealed.entries.size(); ++i)
    edited[i] = export_entry_line(resealed.entries[i]);
  auto r = verify_lines(edited, key.public_key());
  REQUIRE(r.first_fault);
  CHECK(r.first_fault->line == edited.size());
  CHECK(r.first_fault->message.find("partition 200 entry 3") != std::string::npos);

  // An entry of partition 3 dropped: named at the entry after the gap.
  auto dropped = lines;
  dropped.erase(dropped.begin() + 3); // partition 3 entry 2
  r = verify_lines(dropped, key.public_key());
  REQUIRE(r.first_fault);
  CHECK(r.first_fault->line == 5);
  CHECK(r.first_fault->message.find("partition 3 entry 3") == 0);

  // A slice from the middle: each chain's first entry is its anchor, and a
  // head before the slice is not owed.
  std::vector<std::string> slice(lines.begin() + 3, lines.end());
  auto sliced = verify_lines(slice, key.public_key());
  CHECK_MESSAGE(!sliced.first_fault, sliced.first_fault->message);
}
