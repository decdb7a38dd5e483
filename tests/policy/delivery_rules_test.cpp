#include "policy/delivery_rules.hpp"

#include <doctest/doctest.h>

using namespace hitl;
using namespace std::chrono_literals;

TEST_CASE("which answers are delivered, retried or dead") {
  struct row {
    bool answered;
    long status;
    delivery_outcome expected;
  };
  const row rows[] = {
    {false, 0, delivery_outcome::retry},     // refused, timed out
    {true, 200, delivery_outcome::delivered},
    {true, 204, delivery_outcome::delivered},
    {true, 299, delivery_outcome::delivered},
    {true, 301, delivery_outcome::dead},     // a redirect will not fix itself
    {true, 400, delivery_outcome::dead},
    {true, 401, delivery_outcome::dead},
    {true, 404, delivery_outcome::dead},
    {true, 408, delivery_outcome::retry},
    {true, 410, delivery_outcome::dead},
    {true, 429, delivery_outcome::retry},
    {true, 500, delivery_outcome::retry},
    {true, 503, delivery_outcome::retry},
  };
  for (const auto& r : rows) {
    CAPTURE(r.status);
    CHECK(classify_delivery(r.answered, r.status) == r.expected);
  }
}

TEST_CASE("retry delays double, stay within the cap and jitter by half") {
  auto d = [](int attempts, double jitter) {
    return retry_delay(1s, 60s, attempts, jitter);
  };
  CHECK(d(1, 0.999999) <= 1s);
  CHECK(d(1, 0.0) == 500ms);
  CHECK(d(2, 0.0) == 1s);
  CHECK(d(3, 0.0) == 2s);
  CHECK(d(7, 0.0) == 30s);
  CHECK(d(8, 0.0) == 30s);     // 128 s capped at 60 s, halved by jitter 0
  CHECK(d(50, 0.999999) <= 60s);
  CHECK(d(50, 0.999999) > 59s);
  CHECK(d(0, 0.0) == 500ms);   // never below half the initial delay
}
