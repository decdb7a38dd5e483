// `hitl serve` as a process: a clean stop on SIGTERM (health with and
// without PostgreSQL: gate_pgtest.cpp).

#include "tests/pg/pg_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace hitl::test;

TEST_CASE("SIGTERM stops serve cleanly within a few seconds") {
  auto url = fresh_database("hitl_sigterm");
  served_hitl hitl{url};
  CHECK(http_request("GET", hitl.base_url() + "/health").status == 200);
  auto started = std::chrono::steady_clock::now();
  // Exit code 0 within the ceiling: a stop that hangs fails here; how long
  // it took depends on the machine and is shown.
  int code = hitl.terminate(std::chrono::seconds(30));
  CHECK(code == 0);
  MESSAGE("serve exited "
          << std::chrono::duration<double>(std::chrono::steady_clock::now()
                                           - started)
               .count()
          << " s after SIGTERM");
}

TEST_CASE("SIGTERM under load: every in-flight request ends, serve exits 0") {
  auto url = fresh_database("hitl_sigterm_load");
  REQUIRE(run_hitl({"migrate", "--database-url", url}).exit_code == 0);
  auto made = run_hitl({"token", "create", "--name", "wg", "--role", "service",
                        "--database-url", url});
  REQUIRE(made.exit_code == 0);
  auto token = made.out.substr(0, made.out.find('\n'));
  served_hitl hitl{url};
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  // Stopped and joined on every way out, a failed REQUIRE included.
  struct client_threads {
    std::atomic<bool>& stop;
    std::vector<std::thread> threads;
    void join() {
      stop = true;
      for (auto& c : threads)
        if (c.joinable())
          c.join();
    }
    ~client_threads() {
      join();
    }
  } clients{stop, {}};
  for (int t = 0; t < 12; ++t)
    clients.threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        nlohmann::json body{
          {"patch_id", "load-" + std::to_string(t) + "-" + std::to_string(i)},
          {"patch_metadata",
           {{"apv_id", "a"}, {"package_name", "zlib"},
            {"current_version", "1"}, {"target_version", "2"},
            {"severity", "medium"}}}};
        auto r = http_request("POST",
                              hitl.base_url() + "/hitl/admin/create-decision",
                              body.dump(),
                              {"Authorization: Bearer " + token,
                               "Content-Type: application/json"});
        if (r.status == 201)
          answered.fetch_add(1);
      }
    });
  REQUIRE(eventually([&] { return answered.load() >= 200; },
                     std::chrono::seconds(120)));
  auto started = std::chrono::steady_clock::now();
  int code = hitl.terminate(std::chrono::seconds(30));
  auto took = std::chrono::steady_clock::now() - started;
  clients.join();
  CHECK(code == 0); // within the ceiling
  MESSAGE("serve exited under load "
          << std::chrono::duration<double>(took).count()
          << " s after SIGTERM");
  // Every creation that was answered 201 is in the database.
  CHECK(std::stoi(sql_scalar(url, "SELECT count(*) FROM hitl_decisions"))
        >= answered.load());
}

TEST_CASE("unknown routes are problem+json 404") {
  auto url = fresh_database("hitl_404");
  served_hitl hitl{url};
  auto r = http_request("GET", hitl.base_url() + "/nope");
  CHECK(r.status == 404);
  CHECK(r.headers["content-type"] == "application/problem+json");
}
