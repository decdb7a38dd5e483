#include "policy/partition.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

using namespace hitl;

namespace {

std::vector<std::string> node_names(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back("node-" + std::to_string(i));
  return out;
}

std::map<std::string, int> ownership(const std::vector<std::string>& nodes) {
  std::map<std::string, int> held;
  for (int p = 0; p < partition_count; ++p)
    ++held[*preferred_owner(partition_id{p}, nodes)];
  return held;
}

} // namespace

TEST_CASE("partition_of: the first byte of SHA-256 of the patch id") {
  // SHA-256("abc") = ba7816bf…, SHA-256("") = e3b0c442…
  CHECK(partition_of("abc").value == 0xba);
  CHECK(partition_of("").value == 0xe3);
  // SHA-256("patch-1") = 8d1c3243… (python3 -c "import hashlib;
  // print(hashlib.sha256(b'patch-1').hexdigest())")
  CHECK(partition_of("patch-1").value == 0x8d);
}

TEST_CASE("partition_of: 25,600 patch ids cover every partition evenly") {
  std::array<int, partition_count> hits{};
  for (int i = 0; i < 25'600; ++i) {
    auto p = partition_of("patch-" + std::to_string(i));
    REQUIRE(p.value >= 0);
    REQUIRE(p.value < partition_count);
    ++hits[static_cast<std::size_t>(p.value)];
  }
  auto [lo, hi] = std::minmax_element(hits.begin(), hits.end());
  // 100 expected per partition; the binomial spread is about ±10.
  CHECK(*lo >= 60);
  CHECK(*hi <= 140);
}

TEST_CASE("node_id_from: the same seed, the same UUID; another seed, another") {
  auto a = node_id_from("host-1|127.0.0.1:8027");
  CHECK(a == node_id_from("host-1|127.0.0.1:8027"));
  CHECK(a != node_id_from("host-1|127.0.0.1:8028"));
  CHECK(is_node_id(a));
  CHECK(a[14] == '8');
  CHECK(std::string{"89ab"}.find(a[19]) != std::string::npos);
  CHECK(is_node_id("00000000-0000-4000-8000-00000000000a"));
  CHECK_FALSE(is_node_id("00000000-0000-4000-8000-00000000000A"));
  CHECK_FALSE(is_node_id("00000000-0000-4000-8000-00000000000"));
  CHECK_FALSE(is_node_id("00000000x0000-4000-8000-00000000000a"));
  CHECK_FALSE(is_node_id(""));
}

TEST_CASE("preferred_owner: none without nodes, the only node with one") {
  CHECK_FALSE(preferred_owner(partition_id{7}, {}).has_value());
  CHECK(preferred_owner(partition_id{7}, {"a"}) == "a");
}

TEST_CASE("preferred_owner: the node list's order does not matter") {
  auto nodes = node_names(5);
  auto reversed = nodes;
  std::reverse(reversed.begin(), reversed.end());
  for (int p = 0; p < partition_count; ++p)
    CHECK(preferred_owner(partition_id{p}, nodes)
          == preferred_owner(partition_id{p}, reversed));
}

TEST_CASE("preferred_owner: three nodes share 256 partitions about evenly") {
  auto held = ownership(node_names(3));
  REQUIRE(held.size() == 3);
  for (const auto& [node, count] : held) {
    INFO(node << " holds " << count);
    CHECK(count >= 60);
    CHECK(count <= 110);
  }
}

TEST_CASE("preferred_owner: a node that leaves moves only its own partitions") {
  auto four = node_names(4);
  auto three = four;
  three.erase(three.begin() + 1); // node-1 leaves
  int moved = 0;
  for (int p = 0; p < partition_count; ++p) {
    auto before = *preferred_owner(partition_id{p}, four);
    auto after = *preferred_owner(partition_id{p}, three);
    if (before == "node-1") {
      CHECK(after != "node-1");
      ++moved;
    } else {
      CHECK(after == before);
    }
  }
  CHECK(moved > 0);
}

TEST_CASE(
  "preferred_owner: a node that joins takes partitions only for itself") {
  auto three = node_names(3);
  auto four = node_names(4);
  int taken = 0;
  for (int p = 0; p < partition_count; ++p) {
    auto before = *preferred_owner(partition_id{p}, three);
    auto after = *preferred_owner(partition_id{p}, four);
    if (after != before) {
      CHECK(after == "node-3");
      ++taken;
    }
  }
  // About a quarter of the partitions.
  CHECK(taken >= 40);
  CHECK(taken <= 90);
}

namespace {

// The database's side of plan_ownership, in memory: a partition can be
// acquired only while nobody holds it, as hitl_partitions' UPDATE does.
struct simulated_leases {
  std::vector<std::optional<std::string>> owners =
    std::vector<std::optional<std::string>>(partition_count);

  // One scan of `me`; returns how many partitions moved.
  std::size_t scan(const std::string& me, const std::vector<std::string>& live,
                   std::size_t max_release = 8) {
    auto plan = plan_ownership(me, live, owners, max_release);
    for (auto p : plan.acquire) {
      auto& o = owners[static_cast<std::size_t>(p.value)];
      REQUIRE_FALSE(o.has_value());
      o = me;
    }
    for (auto p : plan.release) {
      auto& o = owners[static_cast<std::size_t>(p.value)];
      REQUIRE(o == me);
      o.reset();
    }
    return plan.acquire.size() + plan.release.size();
  }

  // Every live node scans until a round moves nothing; returns the rounds.
  int settle(const std::vector<std::string>& live) {
    for (int round = 1; round <= 100; ++round) {
      std::size_t moved = 0;
      for (const auto& n : live)
        moved += scan(n, live);
      if (moved == 0)
        return round;
    }
    FAIL("ownership did not settle in 100 rounds");
    return -1;
  }

  void forget(const std::string& dead) {
    for (auto& o : owners)
      if (o == dead)
        o.reset();
  }

  bool all_preferred(const std::vector<std::string>& live) const {
    for (int p = 0; p < partition_count; ++p)
      if (owners[static_cast<std::size_t>(p)]
          != assign_partitions(live)[static_cast<std::size_t>(p)])
        return false;
    return true;
  }
};

} // namespace

TEST_CASE(
  "plan_ownership: a cluster of one takes every partition in one scan") {
  simulated_leases db;
  CHECK(db.scan("solo", {"solo"}) == partition_count);
  CHECK(db.all_preferred({"solo"}));
  CHECK(db.scan("solo", {"solo"}) == 0);
}

TEST_CASE("plan_ownership: a killed node's partitions go to the others, and "
          "of theirs only the few the cap pushes") {
  auto three = node_names(3);
  simulated_leases db;
  db.settle(three);
  REQUIRE(db.all_preferred(three));
  auto before = db.owners;

  db.forget("node-2"); // its lease ran out
  std::vector<std::string> two{"node-0", "node-1"};
  db.settle(two);
  CHECK(db.all_preferred(two));
  int its = 0, others = 0;
  for (std::size_t p = 0; p < before.size(); ++p) {
    if (before[p] == "node-2")
      ++its;
    else if (db.owners[p] != before[p])
      ++others;
  }
  MESSAGE("3 -> 2 nodes: the killed node held " << its << "; " << others
                                                << " moved between survivors");
  CHECK(its > 0);
  CHECK(others * 4 <= its);
}

TEST_CASE("plan_ownership: a joining node is handed 8 partitions per scan, "
          "never two owners") {
  auto three = node_names(3);
  auto four = node_names(4);
  simulated_leases db;
  db.settle(three);

  // Each old node hands the newcomer at most 8 a scan (and, as the cap
  // shifts a few partitions between the others too, at most 8 to each).
  auto target = assign_partitions(four);
  std::size_t handed = 0;
  for (const auto& n : three) {
    auto plan = plan_ownership(n, four, db.owners, 8);
    CHECK(plan.acquire.empty());
    std::map<std::string, std::size_t> to;
    for (auto p : plan.release)
      ++to[target[static_cast<std::size_t>(p.value)]];
    for (const auto& [node, count] : to)
      CHECK(count <= 8);
    handed += to["node-3"];
  }
  CHECK(handed > 0);
  CHECK(handed <= 3 * 8);
  int rounds = db.settle(four);
  CHECK(rounds > 2); // gradual: more than one handover round
  CHECK(db.all_preferred(four));
}

TEST_CASE("plan_ownership: without live nodes nothing moves") {
  simulated_leases db;
  auto plan = plan_ownership("ghost", {}, db.owners, 8);
  CHECK(plan.acquire.empty());
  CHECK(plan.release.empty());
}

TEST_CASE("partition_cap: the fair share plus 10 %, rounded up") {
  CHECK(partition_cap(0) == 0);
  CHECK(partition_cap(1) == 282);
  CHECK(partition_cap(3) == 94);   // 85.3 * 1.1 = 93.9
  CHECK(partition_cap(16) == 18);  // 16 * 1.1 = 17.6
  CHECK(partition_cap(256) == 2);  // 1.1
}

TEST_CASE("assign_partitions: every partition has one live owner, whatever "
          "the order of the nodes") {
  CHECK(assign_partitions({}).empty());
  auto nodes = node_names(16);
  auto owners = assign_partitions(nodes);
  REQUIRE(owners.size() == static_cast<std::size_t>(partition_count));
  for (const auto& o : owners)
    CHECK(std::find(nodes.begin(), nodes.end(), o) != nodes.end());
  auto reversed = nodes;
  std::reverse(reversed.begin(), reversed.end());
  CHECK(assign_partitions(reversed) == owners);
  auto one = assign_partitions({"solo"});
  CHECK(std::count(one.begin(), one.end(), "solo") == partition_count);
}

TEST_CASE("assign_partitions: 16 nodes hold at most fair + 10 %, where "
          "plain rendezvous hashing overloads some") {
  auto nodes = node_names(16);
  std::map<std::string, int> bounded, plain;
  auto owners = assign_partitions(nodes);
  for (int p = 0; p < partition_count; ++p) {
    ++bounded[owners[static_cast<std::size_t>(p)]];
    ++plain[*preferred_owner(partition_id{p}, nodes)];
  }
  int most_plain = 0;
  for (const auto& [n, count] : plain)
    most_plain = std::max(most_plain, count);
  for (const auto& [n, count] : bounded)
    CHECK(count <= partition_cap(16));
  MESSAGE("16 nodes: the busiest holds " << most_plain
                                         << " by plain rendezvous, at most "
                                         << partition_cap(16) << " bounded");
  CHECK(most_plain > partition_cap(16)); // the cap does something here
}

TEST_CASE("assign_partitions: among 16, a killed node's partitions all move, "
          "and few of the others'") {
  auto sixteen = node_names(16);
  auto before = assign_partitions(sixteen);
  auto fifteen = sixteen;
  fifteen.erase(fifteen.begin() + 5);
  auto after = assign_partitions(fifteen);
  int its = 0, others = 0;
  for (std::size_t p = 0; p < before.size(); ++p) {
    if (before[p] == sixteen[5]) {
      ++its;
      CHECK(after[p] != sixteen[5]);
    } else if (after[p] != before[p]) {
      ++others;
    }
  }
  MESSAGE("killed node held " << its << "; " << others
                              << " others moved between survivors");
  CHECK(its > 0);
  // Each displaced partition can push at most one chain of others; in
  // practice a handful.
  CHECK(others <= its);
}

TEST_CASE("plan_ownership: 16 nodes settle on the bounded assignment, a "
          "killed one's partitions are taken in one round") {
  auto sixteen = node_names(16);
  simulated_leases db;
  db.settle(sixteen);
  REQUIRE(db.all_preferred(sixteen));
  std::vector<std::size_t> its;
  for (std::size_t p = 0; p < db.owners.size(); ++p)
    if (db.owners[p] == sixteen[3])
      its.push_back(p);
  REQUIRE_FALSE(its.empty());
  db.forget(sixteen[3]);
  auto fifteen = sixteen;
  fifteen.erase(fifteen.begin() + 3);
  // One round takes every partition of the dead node (each has a live
  // target that acquires it); later rounds only hand over between
  // survivors, a partition at a time.
  for (const auto& n : fifteen)
    db.scan(n, fifteen);
  for (auto p : its)
    CHECK(db.owners[p].has_value());
  db.settle(fifteen);
  CHECK(db.all_preferred(fifteen));
}

TEST_CASE("plan_ownership: nodes that join together are each handed up to "
          "8 a scan, so a cluster started together spreads in a few scans") {
  auto sixteen = node_names(16);
  simulated_leases db;
  db.settle({sixteen[0]}); // the first to scan took all 256
  auto plan = plan_ownership(sixteen[0], sixteen, db.owners, 8);
  std::map<std::string, int> to;
  auto target = assign_partitions(sixteen);
  for (auto p : plan.release)
    ++to[target[static_cast<std::size_t>(p.value)]];
  CHECK(to.size() == 15);
  for (const auto& [node, count] : to)
    CHECK(count <= 8);
  CHECK(plan.release.size() > 8);
  // Each of the 15 is owed at most the cap (18): three rounds.
  CHECK(db.settle(sixteen) <= 4);
  CHECK(db.all_preferred(sixteen));
}
