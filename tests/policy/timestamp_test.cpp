#include "policy/timestamp.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <ctime>
#include <random>

using namespace hitl;

namespace {

// The general form, as format_iso wrote every timestamp before its digits
// were written in place.
std::string reference_iso(int64_t us) {
  int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
  int64_t frac = us - secs * 1000000;
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(frac));
  return buf;
}

} // namespace

TEST_CASE("format_iso writes what gmtime and printf wrote, at any instant") {
  std::mt19937_64 rng{42};
  // Year 0 to 9999 (the fast path), beyond both ends, and the edges.
  const int64_t year0 = -62167219200LL * 1000000;
  const int64_t year10000 = 253402300800LL * 1000000;
  std::uniform_int_distribution<int64_t> inside{year0, year10000 - 1};
  std::uniform_int_distribution<int64_t> wide{year0 * 20, year10000 * 20};
  for (int i = 0; i < 200000; ++i) {
    int64_t us = i % 4 == 0 ? wide(rng) : inside(rng);
    REQUIRE(format_iso(from_micros(us)) == reference_iso(us));
  }
  for (int64_t us : {int64_t{0}, int64_t{-1}, int64_t{1}, year0, year0 - 1,
                     year10000, year10000 - 1, int64_t{951782400000000},
                     int64_t{951868799999999}, int64_t{4107542400000000}})
    CHECK(format_iso(from_micros(us)) == reference_iso(us));
  CHECK(format_iso(from_micros(1700000000123456)) == "2023-11-14T22:13:20.123456Z");
}
