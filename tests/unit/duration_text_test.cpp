// --expires-in values: a whole number and one unit, nothing else.

#include "cli/duration_text.hpp"

#include <doctest/doctest.h>

using namespace hitl;
using namespace std::chrono_literals;

TEST_CASE("durations: a whole number and s, m, h or d") {
  CHECK(parse_duration_text("90s").value == 90s);
  CHECK(parse_duration_text("30m").value == 30min);
  CHECK(parse_duration_text("12h").value == 12h);
  CHECK(parse_duration_text("7d").value == 7 * 24h);
  CHECK(parse_duration_text("1s").value == 1s);
  CHECK(parse_duration_text("007m").value == 7min);
  CHECK(parse_duration_text("3650d").value == 3650 * 24h);
  for (auto ok : {"90s", "30m", "12h", "7d"})
    CHECK(parse_duration_text(ok).error.empty());
}

TEST_CASE("durations: everything else is refused, and says why") {
  auto refused = [](const char* text, const char* why) {
    CAPTURE(text);
    auto d = parse_duration_text(text);
    CHECK(d.value == 0s);
    CHECK(d.error.find(why) != std::string::npos);
    // Every refusal shows the expected form.
    CHECK(d.error.find("e.g. 90s, 30m, 12h, 7d") != std::string::npos);
  };
  refused("90", "has no unit"); // seconds or days? not guessed
  refused("0", "has no unit");
  refused("", "is empty");
  refused("s", "does not start with a number");
  refused("-5m", "does not start with a number");
  refused("+5m", "does not start with a number");
  refused(" 5m", "does not start with a number");
  refused("1.5h", "is not a number followed by one unit");
  refused("5 m", "is not a number followed by one unit");
  refused("1h30m", "is not a number followed by one unit");
  refused("5ms", "is not a number followed by one unit");
  refused("5M", "has an unknown unit");
  refused("2w", "has an unknown unit");
  refused("10y", "has an unknown unit");
  refused("0s", "is zero");
  refused("0d", "is zero");
  refused("3651d", "is longer than 3650d");
  refused("99999999999999999999999s", "is longer than 3650d"); // no overflow
}
