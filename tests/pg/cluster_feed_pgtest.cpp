// Every node shows the same truth (SPEC §8, "Reads across nodes"): two real
// `hitl serve` nodes on one database. A commit on one node reaches the
// other node's live stream once, in order, with its caches already marked
// old; a long-poll on a node is released by a verdict of whichever node
// holds the decision, also after the node that held it was killed; and a
// feed that lost the database tells its clients to resync once it reads
// again.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"
#include "tests/pg/ws_test_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace hitl::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

constexpr auto patience = 30s;

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

std::vector<std::string> auth(const std::string& token) {
  return {"Authorization: Bearer " + token, "Content-Type: application/json"};
}

// Sends until the answer is not 503 (no owner that answers yet).
http_response until_not_503(const std::function<http_response()>& send) {
  auto give_up = steady::now() + 60s;
  for (;;) {
    auto r = send();
    if (r.status != 503 || steady::now() > give_up)
      return r;
    std::this_thread::sleep_for(50ms);
  }
}

// A live-stream client of `port`, once the node knows the token (its token
// cache fills soon after the start: 401 until then).
std::unique_ptr<raw_socket> stream_client(int port, const std::string& token) {
  auto deadline = steady::now() + patience;
  for (;;) {
    auto s = std::make_unique<raw_socket>(port);
    auto r = handshake(*s, {"Authorization: Bearer " + token});
    if (r.status == 101)
      return s;
    REQUIRE(r.status == 401);
    REQUIRE(steady::now() < deadline);
    std::this_thread::sleep_for(50ms);
  }
}

// Reads the stream until an event `name` of decision `id` (or anything,
// with an empty id) arrives; every text frame read is kept in `seen`.
bool await_event(raw_socket& s, std::vector<json>& seen,
                 const std::string& name, const std::string& id) {
  auto deadline = steady::now() + patience;
  for (;;) {
    auto f = next_non_ping(s, deadline);
    if (f.opcode != op_text)
      return false;
    auto ev = json::parse(f.payload);
    seen.push_back(ev);
    if (ev.value("event", "") == name
        && (id.empty() || ev["decision"].value("decision_id", "") == id))
      return true;
  }
}

int count_events(const std::vector<json>& seen, const std::string& name,
                 const std::string& id) {
  int n = 0;
  for (const auto& ev : seen)
    if (ev.value("event", "") == name && ev.contains("decision")
        && ev["decision"].value("decision_id", "") == id)
      ++n;
  return n;
}

} // namespace

TEST_CASE("cluster feed: a commit on one node reaches the other node's "
          "stream once and in order, its caches, and its long-polls, also "
          "after the owner was killed") {
  auto url = fresh_database("hitl_feed");
  auto svc = issue_token(url, "wargaming", "service");
  auto reviewer = issue_token(url, "alice", "reviewer");
  const std::string a_id = "00000000-0000-4000-8000-0000000000a1";
  const std::string b_id = "00000000-0000-4000-8000-0000000000b1";
  auto start = [&](const std::string& id) {
    auto listen = "127.0.0.1:" + std::to_string(free_port());
    return std::make_unique<served_hitl>(
      url, std::vector<std::string>{"--node-id", id, "--node-listen", listen});
  };
  auto a = start(a_id);
  auto b = start(b_id);
  // Settled: every partition held, and by both nodes.
  auto held_by = [&](const std::string& node) {
    return std::stoi(sql_scalar(
      url, "SELECT count(*) FROM hitl_partitions WHERE owner_node = '" + node
             + "'"));
  };
  REQUIRE(eventually(
    [&] { return held_by(a_id) + held_by(b_id) == 256 && held_by(b_id) > 0; },
    60s));
  // A patch of a partition that B holds.
  auto patch_of_b = [&](const std::string& prefix) {
    for (int i = 0;; ++i) {
      auto patch = prefix + std::to_string(i);
      if (sql_scalar(url, "SELECT owner_node FROM hitl_partitions WHERE "
                          "partition_id = hitl_partition_of('"
                            + patch + "')")
          == b_id)
        return patch;
    }
  };
  auto create_on = [&](const served_hitl& s, const std::string& patch) {
    auto r = until_not_503([&] {
      return http_request("POST", s.base_url() + "/hitl/admin/create-decision",
                          create_body(patch), auth(svc));
    });
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["decision_id"].get<std::string>();
  };
  auto approve_on = [&](const served_hitl& s, const std::string& patch,
                        const std::string& id) {
    return until_not_503([&] {
      return http_request("POST",
                          s.base_url() + "/hitl/patches/" + patch + "/approve",
                          json{{"decision_id", id}}.dump(), auth(reviewer));
    });
  };
  auto state_on = [&](const served_hitl& s, const std::string& id) {
    auto r = http_request("GET", s.base_url() + "/hitl/decisions/" + id, "",
                          auth(reviewer));
    REQUIRE(r.status == 200);
    return json::parse(r.body)["decision"].get<std::string>();
  };

  auto stream = stream_client(a->port(), reviewer);
  std::vector<json> seen;

  // Created and approved on B, the node that holds it: A's stream shows
  // both events, created first; A's cached read of it is old by the time
  // the approval shows on A's stream.
  auto patch1 = patch_of_b("p-feed-");
  auto id1 = create_on(*b, patch1);
  REQUIRE(await_event(*stream, seen, "decision.created", id1));
  CHECK(state_on(*a, id1) == "pending");
  CHECK(state_on(*a, id1) == "pending"); // from A's cache now
  auto approved = approve_on(*b, patch1, id1);
  REQUIRE(approved.status == 200);
  REQUIRE(await_event(*stream, seen, "decision.approved", id1));
  CHECK(state_on(*a, id1) == "approved");

  // A long-poll on A for a decision B holds; B is killed; A takes the
  // partition over and the verdict, given on A, ends the wait.
  auto patch2 = patch_of_b("p-feed-kill-");
  auto id2 = create_on(*b, patch2);
  REQUIRE(await_event(*stream, seen, "decision.created", id2));
  auto poll = std::async(std::launch::async, [&] {
    auto r = http_request("GET", a->base_url() + "/hitl/decisions/" + id2
                                   + "?wait=60",
                          "", auth(reviewer));
    return std::make_pair(r, steady::now());
  });
  // The poll is waiting: it has not come back.
  if (poll.wait_for(1s) == std::future_status::ready) {
    auto early = poll.get().first;
    FAIL("the long-poll came back at once: " << early.status << " "
                                              << early.body);
  }
  b->kill_hard();
  REQUIRE(eventually(
    [&] {
      return sql_scalar(url, "SELECT owner_node FROM hitl_partitions WHERE "
                             "partition_id = hitl_partition_of('"
                               + patch2 + "')")
             == a_id;
    },
    60s));
  auto verdict = approve_on(*a, patch2, id2);
  auto answered = steady::now();
  INFO(verdict.body);
  REQUIRE(verdict.status == 200);
  REQUIRE(poll.wait_for(patience) == std::future_status::ready);
  auto [polled, released] = poll.get();
  INFO(polled.body);
  CHECK(polled.status == 200);
  CHECK(json::parse(polled.body)["decision"] == "approved");
  MESSAGE("long-poll on the surviving node released "
          << std::chrono::duration_cast<std::chrono::milliseconds>(
               released - answered)
               .count()
          << " ms after the new owner answered the verdict");
  REQUIRE(await_event(*stream, seen, "decision.approved", id2));

  // Each event once: what else comes within a second is something else.
  auto quiet = steady::now() + 1s;
  for (auto f = next_non_ping(*stream, quiet); f.opcode == op_text;
       f = next_non_ping(*stream, quiet))
    seen.push_back(json::parse(f.payload));
  for (const auto& id : {id1, id2}) {
    CHECK(count_events(seen, "decision.created", id) == 1);
    CHECK(count_events(seen, "decision.approved", id) == 1);
  }
}

TEST_CASE("cluster feed: a node without stream clients reads entries "
          "without records, and still releases its long-polls and serves a "
          "client that comes later") {
  auto url = fresh_database("hitl_feed_quiet");
  auto svc = issue_token(url, "wargaming", "service");
  auto reviewer = issue_token(url, "alice", "reviewer");
  const std::string a_id = "00000000-0000-4000-8000-0000000000a3";
  const std::string b_id = "00000000-0000-4000-8000-0000000000b3";
  auto start = [&](const std::string& id) {
    auto listen = "127.0.0.1:" + std::to_string(free_port());
    return std::make_unique<served_hitl>(
      url, std::vector<std::string>{"--node-id", id, "--node-listen", listen});
  };
  auto a = start(a_id);
  auto b = start(b_id);
  auto owner_of = [&](const std::string& patch) {
    return sql_scalar(url, "SELECT owner_node FROM hitl_partitions WHERE "
                           "partition_id = hitl_partition_of('"
                             + patch + "')");
  };
  REQUIRE(eventually(
    [&] {
      return sql_scalar(url, "SELECT count(DISTINCT owner_node) FROM "
                             "hitl_partitions")
               == "2"
             && sql_scalar(url, "SELECT count(*) FROM hitl_partitions "
                                "WHERE owner_node IS NULL")
                  == "0";
    },
    60s));
  auto patch_of_a = [&](const std::string& prefix) {
    for (int i = 0;; ++i)
      if (auto p = prefix + std::to_string(i); owner_of(p) == a_id)
        return p;
  };
  // Created and decided on A, each sent to A itself: B learns of it only
  // through its feed, with nobody on B's stream.
  auto create_on_a = [&](const std::string& patch) {
    auto r = until_not_503([&] {
      return http_request("POST", a->base_url() + "/hitl/admin/create-decision",
                          create_body(patch), auth(svc));
    });
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["decision_id"].get<std::string>();
  };
  auto approve_on_a = [&](const std::string& patch, const std::string& id) {
    auto r = until_not_503([&] {
      return http_request("POST",
                          a->base_url() + "/hitl/patches/" + patch + "/approve",
                          json{{"decision_id", id}}.dump(), auth(reviewer));
    });
    INFO(r.body);
    REQUIRE(r.status == 200);
  };

  auto patch1 = patch_of_a("p-quiet-");
  auto id1 = create_on_a(patch1);
  // B's long-poll asks for the longest wait; the verdict on A ends it
  // through B's feed, which read the approval's entry without its record,
  // long before that (were it not released, it would answer the same
  // "approved" after 60 s: the time is the verdict).
  auto poll = std::async(std::launch::async, [&] {
    return http_request("GET",
                        b->base_url() + "/hitl/decisions/" + id1 + "?wait=60",
                        "", auth(reviewer));
  });
  if (poll.wait_for(1s) == std::future_status::ready) {
    auto early = poll.get();
    FAIL("the long-poll came back at once: " << early.status << " "
                                              << early.body);
  }
  approve_on_a(patch1, id1);
  REQUIRE(poll.wait_for(45s) == std::future_status::ready);
  auto polled = poll.get();
  INFO(polled.body);
  CHECK(polled.status == 200);
  CHECK(json::parse(polled.body)["decision"] == "approved");

  // A client that comes to B now is shown A's next decision, records and
  // all.
  auto stream = stream_client(b->port(), reviewer);
  std::vector<json> seen;
  auto patch2 = patch_of_a("p-quiet-later-");
  auto id2 = create_on_a(patch2);
  REQUIRE(await_event(*stream, seen, "decision.created", id2));
  approve_on_a(patch2, id2);
  REQUIRE(await_event(*stream, seen, "decision.approved", id2));
  const auto& shown = seen.back()["decision"];
  CHECK(shown["patch_id"] == patch2);
  CHECK(shown["decision"] == "approved");
}

TEST_CASE("cluster feed: a node whose feed lost the database tells its "
          "stream clients to resync once it reads again, and follows commits "
          "after") {
  auto url = fresh_database("hitl_feed_resync");
  auto svc = issue_token(url, "wargaming", "service");
  auto reviewer = issue_token(url, "alice", "reviewer");
  served_hitl node{url};
  auto stream = stream_client(node.port(), reviewer);
  std::vector<json> seen;
  // The feed gives up its place after 5 s without an answer ...
  pg_ctl("stop");
  bool gave_up = false;
  server_frame early;
  try {
    gave_up = eventually(
      [&] {
        return node.log().find("the database did not answer its reads")
               != std::string::npos;
      },
      60s);
    // ... and tells its clients nothing while it has no place to follow
    // from: a client that read the queue again now would miss what other
    // nodes commit until the feed reads the heads again.
    early = next_non_ping(*stream, steady::now() + 1s);
  } catch (...) {
    pg_ctl("start");
    throw;
  }
  pg_ctl("start");
  CHECK(gave_up);
  CHECK(early.opcode != op_text);
  CHECK(await_event(*stream, seen, "stream.resync", ""));
  // Following commits again: a creation shows, once the pool is back.
  auto r = until_not_503([&] {
    return http_request("POST", node.base_url() + "/hitl/admin/create-decision",
                        create_body("p-after-resync"), auth(svc));
  });
  REQUIRE(r.status == 201);
  auto id = json::parse(r.body)["decision_id"].get<std::string>();
  CHECK(await_event(*stream, seen, "decision.created", id));
}

TEST_CASE("read-your-writes: a write's X-HITL-Position, sent to another "
          "node as X-HITL-Min-Position, reads past that node's caches") {
  auto url = fresh_database("hitl_ryw");
  auto svc = issue_token(url, "wargaming", "service");
  auto reviewer = issue_token(url, "alice", "reviewer");
  const std::string a_id = "00000000-0000-4000-8000-0000000000a2";
  const std::string b_id = "00000000-0000-4000-8000-0000000000b2";
  // A reads the log every 30 s: what it has cached of B's writes stays old
  // for that long, unless a read asks for a position.
  auto slow_feed =
    scratch_file("slow-feed.json", R"({"cluster": {"feed_seconds": 30}})");
  auto node = [&](const std::string& id, std::vector<std::string> extra) {
    extra.insert(extra.end(), {"--node-id", id, "--node-listen",
                               "127.0.0.1:" + std::to_string(free_port())});
    return std::make_unique<served_hitl>(url, extra);
  };
  auto a = node(a_id, {"--config", slow_feed});
  auto b = node(b_id, {});
  REQUIRE(eventually(
    [&] {
      return sql_scalar(url, "SELECT count(*) FROM hitl_partitions WHERE "
                             "owner_node = '" + b_id + "'")
               != "0"
             && sql_scalar(url, "SELECT count(*) FROM hitl_partitions WHERE "
                                "owner_node IS NULL")
                  == "0";
    },
    60s));
  std::string patch;
  for (int i = 0; patch.empty(); ++i) {
    auto p = "p-ryw-" + std::to_string(i);
    if (sql_scalar(url, "SELECT owner_node FROM hitl_partitions WHERE "
                        "partition_id = hitl_partition_of('" + p + "')")
        == b_id)
      patch = p;
  }
  auto partition = sql_scalar(url, "SELECT hitl_partition_of('" + patch + "')");

  // Named by its client, so that the same creation can be sent again.
  auto creation = json::parse(create_body(patch));
  creation["decision_id"] = "d-" + patch;
  auto created = until_not_503([&] {
    return http_request("POST", b->base_url() + "/hitl/admin/create-decision",
                        creation.dump(), auth(svc));
  });
  REQUIRE(created.status == 201);
  auto id = json::parse(created.body)["decision_id"].get<std::string>();
  REQUIRE(id == "d-" + patch);
  auto made_at = created.headers["x-hitl-position"];
  INFO("creation at " << made_at);
  REQUIRE(made_at.rfind(partition + ":", 0) == 0);

  auto read_on_a = [&](const std::vector<std::string>& extra) {
    auto headers = auth(reviewer);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return http_request("GET", a->base_url() + "/hitl/decisions/" + id, "",
                        headers);
  };
  REQUIRE(json::parse(read_on_a({}).body)["decision"] == "pending");
  REQUIRE(json::parse(read_on_a({}).body)["decision"] == "pending"); // cached

  auto approved = until_not_503([&] {
    return http_request("POST", b->base_url() + "/hitl/patches/" + patch
                                  + "/approve",
                        json{{"decision_id", id}}.dump(), auth(reviewer));
  });
  REQUIRE(approved.status == 200);
  auto approved_at = approved.headers["x-hitl-position"];
  INFO("approval at " << approved_at);
  REQUIRE(approved_at.rfind(partition + ":", 0) == 0);
  CHECK(std::stoll(approved_at.substr(approved_at.find(':') + 1))
        > std::stoll(made_at.substr(made_at.find(':') + 1)));

  // The creation sent again once its decision is final: answered as the
  // same creation from the database row, with the place of the decision's
  // latest entry, so that its client can still ask for its own writes.
  auto replayed = until_not_503([&] {
    return http_request("POST", a->base_url() + "/hitl/admin/create-decision",
                        creation.dump(), auth(svc));
  });
  INFO(replayed.body);
  REQUIRE(replayed.status == 200);
  CHECK(replayed.headers["x-hitl-position"] == approved_at);

  // Without the position, A may still answer from its cache.
  MESSAGE("A without the position: "
          << json::parse(read_on_a({}).body)["decision"]);
  auto fresh = read_on_a({"X-HITL-Min-Position: " + approved_at});
  REQUIRE(fresh.status == 200);
  CHECK(json::parse(fresh.body)["decision"] == "approved");
  // The queue as well.
  auto pending = http_request(
    "GET", a->base_url() + "/hitl/patches/pending",
    "", [&] {
      auto h = auth(reviewer);
      h.push_back("X-HITL-Min-Position: " + approved_at);
      return h;
    }());
  REQUIRE(pending.status == 200);
  CHECK(pending.body.find(id) == std::string::npos);

  // A comment's answer carries its place too.
  auto commented = until_not_503([&] {
    return http_request("POST", b->base_url() + "/hitl/patches/" + patch
                                  + "/comment",
                        json{{"decision_id", id}, {"comment", "shipped"}}.dump(),
                        auth(reviewer));
  });
  REQUIRE(commented.status == 201);
  CHECK(commented.headers["x-hitl-position"].rfind(partition + ":", 0) == 0);

  for (const auto* bad : {"12", "256:1", "1:-1", "a:b", "1:2:3", "1:99999999999999999999"}) {
    auto r = read_on_a({std::string{"X-HITL-Min-Position: "} + bad});
    INFO(bad << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.headers["content-type"] == "application/problem+json");
  }
}

TEST_CASE("read-your-writes: a creation sent again after a restart answers "
          "the open decision's place, though its actor was loaded from the "
          "database") {
  auto url = fresh_database("hitl_ryw_repeat");
  auto svc = issue_token(url, "wargaming", "service");
  auto creation = json::parse(create_body("p-ryw-repeat"));
  creation["decision_id"] = "d-ryw-repeat";
  auto send = [&](served_hitl& s) {
    return until_not_503([&] {
      return http_request("POST", s.base_url() + "/hitl/admin/create-decision",
                          creation.dump(), auth(svc));
    });
  };
  std::string made_at;
  {
    served_hitl first{url};
    auto created = send(first);
    REQUIRE(created.status == 201);
    made_at = created.headers["x-hitl-position"];
    REQUIRE_FALSE(made_at.empty());
    auto again = send(first); // its actor has the place from the commit
    REQUIRE(again.status == 200);
    CHECK(again.headers["x-hitl-position"] == made_at);
    REQUIRE(first.terminate(30s) == 0);
  }
  // Loaded at start, its actor knows the decision but not its place.
  served_hitl second{url};
  auto repeated = send(second);
  INFO(repeated.body);
  REQUIRE(repeated.status == 200);
  CHECK(json::parse(repeated.body)["decision"] == "pending");
  CHECK(repeated.headers["x-hitl-position"] == made_at);
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs WHERE "
                        "decision_id = 'd-ryw-repeat'")
        == "1");
}

TEST_CASE("system-true gauges: hitl_pending_patches on every node counts "
          "the open decisions of all of them") {
  auto url = fresh_database("hitl_gauges");
  auto svc = issue_token(url, "wargaming", "service");
  auto node = [&](const std::string& id) {
    return std::make_unique<served_hitl>(
      url, std::vector<std::string>{
             "--node-id", id, "--node-listen",
             "127.0.0.1:" + std::to_string(free_port())});
  };
  auto a = node("00000000-0000-4000-8000-0000000000a3");
  auto b = node("00000000-0000-4000-8000-0000000000b3");
  // Created through B only: A commits none of them.
  for (int i = 0; i < 5; ++i) {
    auto r = until_not_503([&] {
      return http_request("POST", b->base_url() + "/hitl/admin/create-decision",
                          create_body("p-gauge-" + std::to_string(i)),
                          auth(svc));
    });
    REQUIRE(r.status == 201);
  }
  auto gauge_on = [&](const served_hitl& s) {
    auto text = http_request("GET", s.base_url() + "/metrics").body;
    auto at = text.find("\nhitl_pending_patches ");
    REQUIRE(at != std::string::npos);
    return std::stod(text.substr(at + 22));
  };
  for (const auto* s : {a.get(), b.get()}) {
    double last = -1;
    INFO("last read " << last);
    CHECK(eventually([&] { return (last = gauge_on(*s)) == 5; }, 30s));
  }
}
