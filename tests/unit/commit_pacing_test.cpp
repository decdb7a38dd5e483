#include "actors/commit_pacing.hpp"

#include <doctest/doctest.h>

using namespace hitl;
using namespace std::chrono_literals;

namespace {
const auto t0 = commit_pacing::clock::time_point{} + 1h;
constexpr auto min = commit_pacing::batch_beside_min;
} // namespace

TEST_CASE("commit pacing: with few writers every batch goes at once") {
  commit_pacing p;
  CHECK(p.send_beside(1)); // nothing seen yet
  p.observe(2, t0);
  p.observe(min, t0 + 10ms);
  CHECK(p.send_beside(1));
  CHECK(p.send_beside(min));
}

TEST_CASE("commit pacing: with many writers a small batch waits") {
  commit_pacing p;
  p.observe(min + 1, t0);
  CHECK_FALSE(p.send_beside(1));
  CHECK_FALSE(p.send_beside(min - 1));
  CHECK(p.send_beside(min));
  CHECK(p.send_beside(100));
}

TEST_CASE("commit pacing: the writers seen are forgotten after two seconds") {
  commit_pacing p;
  p.observe(20, t0);
  p.observe(1, t0 + 1500ms); // a new window; the last one's peak still counts
  CHECK_FALSE(p.send_beside(1));
  p.observe(1, t0 + 2600ms); // the window of t0 is two behind
  CHECK(p.send_beside(1));
  p.observe(20, t0 + 2700ms);
  p.observe(1, t0 + 6s); // a gap of more than two windows forgets at once
  CHECK(p.send_beside(1));
}
