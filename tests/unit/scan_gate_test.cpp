#include "http/scan_gate.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace hitl;
using namespace std::chrono_literals;

namespace {

const auto t0 = scan_gate::clock::time_point{} + 1000s;

std::shared_ptr<const std::string> text(const char* s) {
  return std::make_shared<const std::string>(s);
}

} // namespace

TEST_CASE("scan gate: one scan at a time, the next is refused until it ends") {
  scan_gate gate{1, 5s};
  auto first = gate.admit("q", t0);
  REQUIRE(bool(first.run));
  CHECK_FALSE(bool(first.reused));
  CHECK(gate.running() == 1);
  auto second = gate.admit("q", t0);
  CHECK_FALSE(bool(second.run));
  CHECK_FALSE(bool(second.reused));
  // Another query is a scan too: the limit is per kind, not per query.
  CHECK_FALSE(bool(gate.admit("other", t0).run));
  CHECK(gate.retry_after() == 5s);
  first.run.reset(); // answered, failed or timed out: the place is free
  CHECK(gate.running() == 0);
  CHECK(bool(gate.admit("q", t0).run));
}

TEST_CASE("scan gate: a result is answered again while younger than the "
          "reuse time, for the same query only") {
  scan_gate gate{1, 5s};
  {
    auto in = gate.admit("since=a", t0);
    REQUIRE(bool(in.run));
    in.run->keep(text("result-a"), t0 + 1s);
  }
  auto again = gate.admit("since=a", t0 + 5s);
  REQUIRE(bool(again.reused));
  CHECK(*again.reused == "result-a");
  CHECK_FALSE(bool(again.run));
  CHECK(gate.running() == 0);
  // Reused even while another scan runs.
  auto other = gate.admit("since=b", t0 + 2s);
  REQUIRE(bool(other.run));
  CHECK(bool(gate.admit("since=a", t0 + 2s).reused));
  CHECK_FALSE(bool(gate.admit("since=b", t0 + 2s).run)); // busy, nothing kept
  other.run.reset();
  // At 5 s old it is stale: scanned again.
  auto stale = gate.admit("since=a", t0 + 6s);
  CHECK_FALSE(bool(stale.reused));
  CHECK(bool(stale.run));
}

TEST_CASE("scan gate: reuse 0 keeps nothing; a limit of 2 admits 2") {
  scan_gate none{2, 0s};
  auto a = none.admit("q", t0);
  auto b = none.admit("q", t0);
  REQUIRE(bool(a.run));
  REQUIRE(bool(b.run));
  CHECK_FALSE(bool(none.admit("q", t0).run));
  a.run->keep(text("x"), t0);
  CHECK_FALSE(bool(none.admit("q", t0).reused));
  CHECK(none.retry_after() == 1s);
}

TEST_CASE("scan gate: the later of two results of a query is kept") {
  scan_gate gate{2, 10s};
  auto a = gate.admit("q", t0);
  auto b = gate.admit("q", t0);
  b.run->keep(text("later"), t0 + 2s);
  a.run->keep(text("earlier"), t0 + 1s);
  CHECK(*gate.admit("q", t0 + 3s).reused == "later");
}

TEST_CASE("scan gate: results kept are bounded") {
  scan_gate gate{1, 10s};
  for (int i = 0; i < 1000; ++i) {
    auto in = gate.admit("q" + std::to_string(i), t0);
    REQUIRE(bool(in.run));
    in.run->keep(text("r"), t0 + std::chrono::milliseconds(i));
  }
  // The newest are kept, the oldest went.
  CHECK(bool(gate.admit("q999", t0 + 2s).reused));
  CHECK_FALSE(bool(gate.admit("q0", t0 + 2s).reused));
}

TEST_CASE("scan gate: admissions from many threads never exceed the limit") {
  scan_gate gate{3, 0s};
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto in = gate.admit("q", t0);
        if (!in.run)
          continue;
        ++admitted;
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now))
          ;
        --inside;
      }
    });
  for (auto& th : threads)
    th.join();
  CHECK(most.load() <= 3);
  CHECK(admitted.load() > 0);
  CHECK(gate.running() == 0);
}
