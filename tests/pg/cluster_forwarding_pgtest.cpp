// Any node takes any request (SPEC §8): three real `hitl serve` processes
// with --node-listen on loopback, one test database. Creations, verdicts and
// long-polls sent to a node that does not hold the patch's partition reach
// the node that does, through CAF's remote actors, while partitions are
// still being handed around; after a kill -9 the survivors answer for the
// dead node's partitions once they have taken them over.

#include "tests/pg/pg_fixture.hpp"

#include "policy/partition.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

using namespace hitl::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string create_body(const std::string& patch) {
  return json{{"patch_id", patch},
              {"patch_metadata",
               {{"apv_id", "apv-1"},
                {"package_name", "openssl"},
                {"current_version", "1"},
                {"target_version", "2"},
                {"severity", "low"}}},
              {"ml_prediction", {{"confidence", 0.3}, {"prediction", true}}}}
    .dump();
}

struct node {
  std::string id;
  std::unique_ptr<served_hitl> serve;
};

std::unique_ptr<served_hitl> start(const std::string& url,
                                   const std::string& id) {
  auto listen = "127.0.0.1:" + std::to_string(free_port());
  return std::make_unique<served_hitl>(
    url, std::vector<std::string>{"--node-id", id, "--node-listen", listen});
}

// Sends until the answer is not 503 (a partition without a reachable owner
// yet), for at most `ceiling`; counts the 503s in `unavailable`.
http_response until_not_503(const std::function<http_response()>& send,
                            int& unavailable,
                            std::chrono::seconds ceiling = 60s) {
  http_response r;
  auto give_up = std::chrono::steady_clock::now() + ceiling;
  for (;;) {
    r = send();
    if (r.status != 503 || std::chrono::steady_clock::now() > give_up)
      return r;
    ++unavailable;
  }
}

} // namespace

TEST_CASE("cluster forwarding: any node takes any request, also while "
          "partitions move and after a node is killed") {
  auto url = fresh_database("hitl_forwarding");
  auto svc = issue_token(url, "wargaming", "service");
  auto reviewer = issue_token(url, "alice", "reviewer");
  std::array<node, 3> nodes{
    node{"00000000-0000-4000-8000-0000000000f1", nullptr},
    node{"00000000-0000-4000-8000-0000000000f2", nullptr},
    node{"00000000-0000-4000-8000-0000000000f3", nullptr}};
  for (auto& n : nodes)
    n.serve = start(url, n.id);
  auto auth = [](const std::string& t) {
    return std::vector<std::string>{"Authorization: Bearer " + t,
                                    "Content-Type: application/json"};
  };
  auto create_on = [&](const served_hitl& s, const std::string& patch) {
    return http_request("POST", s.base_url() + "/hitl/admin/create-decision",
                        create_body(patch), auth(svc));
  };
  auto approve_on = [&](const served_hitl& s, const std::string& patch,
                        const std::string& id) {
    return http_request("POST",
                        s.base_url() + "/hitl/patches/" + patch + "/approve",
                        json{{"decision_id", id}}.dump(), auth(reviewer));
  };

  // Created round the nodes while the first node still hands partitions
  // to the others (8 a scan): most go through another node.
  int unavailable = 0;
  std::vector<std::pair<std::string, std::string>> made; // patch, id
  for (int i = 0; i < 45; ++i) {
    auto patch = "p-fw-" + std::to_string(i);
    const auto& on = *nodes[static_cast<size_t>(i % 3)].serve;
    auto r = until_not_503([&] { return create_on(on, patch); }, unavailable);
    INFO(patch << ": " << r.body);
    REQUIRE(r.status == 201);
    made.emplace_back(patch, json::parse(r.body)["decision_id"]);
  }
  // Each approved through the node after the one that created it.
  for (size_t i = 0; i < made.size(); ++i) {
    const auto& [patch, id] = made[i];
    const auto& on = *nodes[(i + 1) % 3].serve;
    auto r =
      until_not_503([&] { return approve_on(on, patch, id); }, unavailable);
    INFO(patch << ": " << r.body);
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["decision"] == "approved");
  }
  MESSAGE(unavailable << " answers 503 (retried) while partitions moved");

  // A long-poll on one node is released by a verdict given on another.
  auto waited = create_on(*nodes[0].serve, "p-fw-wait");
  REQUIRE(waited.status == 201);
  auto wait_id = json::parse(waited.body)["decision_id"].get<std::string>();
  auto poll = std::async(std::launch::async, [&] {
    return http_request("GET", nodes[1].serve->base_url() + "/hitl/decisions/"
                                 + wait_id + "?wait=30",
                        "", auth(svc));
  });
  // The verdict may come before the poll waits or while it does: the
  // answer is the same.
  auto verdict = until_not_503(
    [&] { return approve_on(*nodes[2].serve, "p-fw-wait", wait_id); },
    unavailable);
  REQUIRE(verdict.status == 200);
  auto polled = poll.get();
  INFO(polled.body);
  CHECK(polled.status == 200);
  CHECK(json::parse(polled.body)["decision"] == "approved");

  // A long-poll that outlasts a forwarded request's own timeout (12 s)
  // ends when its wait does, with the decision still pending: not 503. Its
  // patch is in a partition that stays with node 1 (rendezvous hashing
  // prefers it there): a partition handed over releases its long-polls
  // early (the caller reads the decision and polls again).
  std::vector<std::string> ids;
  for (const auto& n : nodes)
    ids.push_back(n.id);
  std::string idle_patch;
  auto owners = hitl::assign_partitions(ids);
  for (int k = 0; idle_patch.empty(); ++k) {
    auto patch = "p-fw-idle-" + std::to_string(k);
    if (owners[static_cast<size_t>(hitl::partition_of(patch).value)]
        == ids[0])
      idle_patch = patch;
  }
  REQUIRE(eventually([&] {
    auto r = http_request("GET", nodes[0].serve->base_url() + "/health");
    if (r.status != 200)
      return false;
    auto doc = json::parse(r.body);
    for (const auto& p : doc["node"]["partitions"])
      if (p.get<int>() == hitl::partition_of(idle_patch).value)
        return true;
    return false;
  }, 60s));
  auto idle = until_not_503(
    [&] { return create_on(*nodes[0].serve, idle_patch); }, unavailable);
  REQUIRE(idle.status == 201);
  auto idle_id = json::parse(idle.body)["decision_id"].get<std::string>();
  auto polled_from = std::chrono::steady_clock::now();
  std::vector<std::future<http_response>> idle_polls;
  for (const auto& n : nodes)
    idle_polls.push_back(std::async(std::launch::async, [&, url = n.serve->base_url()] {
      return http_request("GET", url + "/hitl/decisions/" + idle_id
                                   + "?wait=14",
                          "", auth(svc));
    }));
  for (auto& f : idle_polls) {
    auto r = f.get();
    // Not before its 14 s (a timer is never early): it really waited.
    CHECK(std::chrono::steady_clock::now() - polled_from >= 14s);
    INFO(r.body);
    CHECK(r.status == 200);
    CHECK(json::parse(r.body)["decision"] == "pending");
  }

  // Node 3 is killed once it holds partitions. Creations through the
  // others for its partitions are answered once the survivors have taken
  // them over (503 before, after a few seconds of retrying inside the
  // node); the others all along.
  std::set<int> third;
  http_response health;
  bool holds = eventually(
    [&] {
      auto r = health =
        http_request("GET", nodes[2].serve->base_url() + "/health");
      if (r.status != 200)
        return false;
      third.clear();
      auto doc = json::parse(r.body);
      for (const auto& p : doc["node"]["partitions"])
        third.insert(p.get<int>());
      return third.size() >= 8;
    },
    60s);
  INFO(health.status << " " << health.body);
  INFO(nodes[2].serve->log());
  REQUIRE(holds);
  std::vector<std::string> late;
  for (int i = 0; late.size() < 24; ++i) {
    auto patch = "p-fw-late-" + std::to_string(i);
    bool in_third = third.count(hitl::partition_of(patch).value) > 0;
    auto of_third =
      std::count_if(late.begin(), late.end(), [&](const std::string& x) {
        return third.count(hitl::partition_of(x).value) > 0;
      });
    if (in_third ? of_third < 12 : late.size() - of_third < 12)
      late.push_back(patch);
  }
  auto killed_at = std::chrono::steady_clock::now();
  nodes[2].serve->kill_hard();
  int after_kill = 0;
  for (size_t i = 0; i < late.size(); ++i) {
    const auto& patch = late[i];
    const auto& on = *nodes[i % 2].serve;
    auto r = until_not_503([&] { return create_on(on, patch); }, after_kill);
    INFO(patch << ": " << r.body);
    REQUIRE(r.status == 201);
    made.emplace_back(patch, json::parse(r.body)["decision_id"]);
  }
  MESSAGE(after_kill << " answers 503 after the kill (each after 5 s of "
                        "retrying in the node); 12 creations in the killed "
                        "node's partitions and 12 in others' all answered "
                        "201 within "
                     << std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - killed_at)
                          .count()
                     << " s of the kill");

  // Every acknowledged creation is there, once.
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_decisions")
        == std::to_string(made.size() + 2));
  CHECK(sql_scalar(url, "SELECT count(DISTINCT patch_id) FROM hitl_decisions")
        == std::to_string(made.size() + 2));
  for (const auto& [patch, id] : made)
    CHECK(sql_scalar(url, "SELECT patch_id FROM hitl_decisions WHERE"
                          " decision_id = '" + id + "'")
          == patch);
  auto verify = run_hitl({"audit", "verify", "--database-url", url});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
}

TEST_CASE("cluster forwarding: serve refuses a bad --node-listen or an "
          "--advertise without it") {
  auto url = fresh_database("hitl_forwarding_flags");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--node-listen", "127.0.0.1"},
        std::vector<std::string>{"--node-listen", "127.0.0.1:70000"},
        std::vector<std::string>{"--advertise", "10.0.0.1:9000"}}) {
    std::vector<std::string> cmd{"serve", "--listen", "127.0.0.1:1",
                                 "--database-url", url};
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = run_hitl(cmd);
    auto said = r.out + r.err;
    INFO(args[0] << " " << args[1] << ": " << said);
    CHECK(r.exit_code == 1);
    CHECK((said.find("--node-listen") != std::string::npos
           || said.find("--advertise") != std::string::npos));
  }
}
