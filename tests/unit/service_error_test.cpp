#include "actors/service_error.hpp"

#include "persistence/db_error.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace hitl;

TEST_CASE("every database failure has one service answer, without "
          "PostgreSQL's text") {
  const std::map<db_errc, service_errc> expected{
    {db_errc::unavailable, service_errc::unavailable},
    {db_errc::conflict, service_errc::conflict},
    {db_errc::constraint, service_errc::invalid},
    {db_errc::retry, service_errc::unavailable},
    {db_errc::in_doubt, service_errc::unavailable},
    {db_errc::internal, service_errc::internal},
  };
  // Every db_errc, from the first to the last (internal).
  auto last = static_cast<int>(db_errc::internal);
  REQUIRE(expected.size() == static_cast<size_t>(last));
  for (int i = 1; i <= last; ++i) {
    auto code = static_cast<db_errc>(i);
    CAPTURE(to_string(code));
    REQUIRE(expected.count(code) == 1);
    CHECK(service_errc_of(code) == expected.at(code));
    const std::string secret = "ERROR: duplicate key value violates unique "
                               "constraint \"hitl_secret_idx\"";
    auto err = to_service_error(db_error(code, secret));
    CHECK(service_code(err) == expected.at(code));
    auto detail = service_detail(err);
    CHECK_FALSE(detail.empty());
    CHECK(detail.find("hitl_secret_idx") == std::string::npos);
  }
  // The auditor's refusals tell apart the chain moving under a batch; to a
  // client it is a conflict like any other.
  CHECK(service_code(to_service_error(chain_moved("HT412")))
        == service_errc::conflict);
}
