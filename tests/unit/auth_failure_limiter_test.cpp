#include "http/auth_failure_limiter.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

using namespace hitl;
using namespace std::chrono_literals;

namespace {

const auto t0 = auth_failure_limiter::clock::time_point{} + 1000s;

} // namespace

TEST_CASE("auth failures: the address is refused after the limit, until its "
          "window ends") {
  auth_failure_limiter lim{3, 10s};
  for (int i = 0; i < 3; ++i) {
    CHECK(lim.blocked_for("10.0.0.1", t0 + 1s) == 0s);
    lim.failed("10.0.0.1", t0 + std::chrono::seconds(i));
  }
  // The window began at the first failure (t0): 10 s later it is over.
  CHECK(lim.blocked_for("10.0.0.1", t0 + 2s) == 8s);
  CHECK(lim.blocked_for("10.0.0.1", t0 + 9s) == 1s);
  CHECK(lim.blocked_for("10.0.0.1", t0 + 10s) == 0s);
  // Other addresses are not affected.
  CHECK(lim.blocked_for("10.0.0.2", t0 + 2s) == 0s);
  // A new window starts with the next failure.
  lim.failed("10.0.0.1", t0 + 10s);
  CHECK(lim.blocked_for("10.0.0.1", t0 + 11s) == 0s);
}

TEST_CASE("auth failures: spread out below the limit, nobody is refused") {
  auth_failure_limiter lim{3, 10s};
  for (int i = 0; i < 30; ++i) {
    CHECK(lim.blocked_for("a", t0 + std::chrono::seconds(5 * i)) == 0s);
    lim.failed("a", t0 + std::chrono::seconds(5 * i));
  }
}

TEST_CASE("auth failures: the table is capped; beyond it one shared entry "
          "still limits") {
  auth_failure_limiter lim{2, 10s, 100};
  for (int i = 0; i < 100; ++i)
    lim.failed("host-" + std::to_string(i), t0);
  CHECK(lim.tracked() == 100);
  // Addresses beyond the cap share the overflow entry.
  CHECK(lim.blocked_for("new-1", t0) == 0s);
  lim.failed("new-1", t0);
  lim.failed("new-2", t0);
  CHECK(lim.tracked() == 100);
  CHECK(lim.blocked_for("new-3", t0 + 1s) == 9s);
  // Tracked addresses keep their own count.
  CHECK(lim.blocked_for("host-1", t0 + 1s) == 0s);
  // Once their windows are over, the stale entries are dropped for new ones.
  lim.failed("later", t0 + 20s);
  CHECK(lim.tracked() == 1);
  CHECK(lim.blocked_for("new-3", t0 + 20s) == 0s);
}

TEST_CASE("auth failures: counted exactly from many threads") {
  // 4000 failures: a limit of 4000 is reached, one of 4001 is not.
  auth_failure_limiter reached{4000, 1000s};
  auth_failure_limiter not_reached{4001, 1000s};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        reached.failed("one", t0);
        not_reached.failed("one", t0);
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(reached.blocked_for("one", t0) > 0s);
  CHECK(not_reached.blocked_for("one", t0) == 0s);
}
