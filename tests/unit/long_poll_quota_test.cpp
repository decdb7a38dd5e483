#include "http/long_poll_quota.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace hitl;

TEST_CASE("long-poll quota: per token, given back when a poll ends") {
  long_poll_quota quota{2};
  auto a = quota.try_acquire("t1");
  auto b = quota.try_acquire("t1");
  REQUIRE(bool(a));
  REQUIRE(bool(b));
  CHECK_FALSE(bool(quota.try_acquire("t1")));
  CHECK(quota.in_flight("t1") == 2);
  CHECK(bool(quota.try_acquire("t2"))); // another token has its own
  a.reset();
  CHECK(quota.in_flight("t1") == 1);
  auto c = quota.try_acquire("t1");
  CHECK(bool(c));
  b.reset();
  c.reset();
  CHECK(quota.in_flight("t1") == 0);
}

TEST_CASE("long-poll quota: 0 refuses every poll") {
  long_poll_quota quota{0};
  CHECK_FALSE(bool(quota.try_acquire("t")));
}

TEST_CASE("long-poll quota: never more than the limit across threads") {
  long_poll_quota quota{4};
  std::vector<std::thread> threads;
  std::atomic<bool> over{false};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto p = quota.try_acquire("t");
        if (quota.in_flight("t") > 4)
          over = true;
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK_FALSE(bool(over.load()));
  CHECK(quota.in_flight("t") == 0);
}
