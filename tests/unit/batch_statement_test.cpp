#include "persistence/batch_writes.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace hitl;

namespace {

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

} // namespace

TEST_CASE("a batch statement holds exactly the kinds of rows of its batch") {
  // One bit per kind, in the order of the kinds' CTEs and parameters.
  const char* ctes[] = {"upd AS (", "ins AS (", "apr AS (", "aud AS (",
                        "obx AS ("};
  CHECK(batch_parts_all == 31);
  for (batch_parts parts = 0; parts <= batch_parts_all; ++parts) {
    CAPTURE(parts);
    auto s = batch_statement_for(parts);
    CHECK(s.name == "batch_write_" + std::to_string(parts));
    // Every parameter is typed, read or not: a JSON array per kind, then
    // the number of updates and where the audit chain was (bigint, bigint,
    // text), then the fence (uuid, smallint[], bigint[]).
    CHECK(s.param_types
          == std::vector<unsigned>{114, 114, 114, 114, 114, 20, 20, 25, 2950,
                                   1005, 1016});
    for (unsigned k = 0; k < 5; ++k) {
      bool in = (parts >> k) & 1;
      CHECK(has(s.text, ctes[k]) == in);
      CHECK(has(s.text, "$" + std::to_string(k + 1) + "::json") == in);
    }
    CHECK(has(s.text, "hitl_chain_follows($7::bigint, $8::text)"));
    CHECK(has(s.text,
              "hitl_fence($9::uuid, $10::smallint[], $11::bigint[])"));
    CHECK(has(s.text, "hitl_all_written((SELECT count(*) FROM upd),"
                      " $6::bigint)")
          == ((parts & 1) != 0));
    // Every {fragment} was expanded: what is left in braces is SQL's own '{}'.
    for (auto at = s.text.find('{'); at != std::string::npos;
         at = s.text.find('{', at + 1))
      CHECK(s.text.compare(at, 2, "{}") == 0);
    CHECK_FALSE(has(s.text, "$12"));
  }
  CHECK_THROWS_AS(batch_statement_for(batch_parts_all + 1), std::logic_error);
}

TEST_CASE("a batch's parameter values follow its statement's parameters") {
  batch_rows rows;
  auto none = batch_call_for(rows);
  CHECK(none.parts == 0);
  REQUIRE(none.values.size() == 11);
  for (unsigned k = 0; k < 5; ++k)
    CHECK(none.values[k] == std::optional<std::string>{"[]"});
  CHECK(none.values[5] == std::optional<std::string>{"0"});
  // Without audit entries, no chain position: NULL.
  CHECK_FALSE(none.values[6]);
  CHECK_FALSE(none.values[7]);
  // Without a fence (no cluster member), NULL: hitl_fence lets it pass.
  CHECK_FALSE(none.values[8]);
  CHECK_FALSE(none.values[9]);
  CHECK_FALSE(none.values[10]);
  auto pointers = none.pointers();
  REQUIRE(pointers.size() == 11);
  CHECK(std::string{pointers[0]} == "[]");
  CHECK(pointers[6] == nullptr);

  audit_entry e;
  e.seq = 41;
  e.decision_id = "d-1";
  e.performed_by = "bob";
  e.prev_hash = std::string(64, 'a');
  e.hash = std::string(64, 'b');
  rows.entries.push_back(e);
  rows.outbox.push_back({"decision.created", "d-1", "http://h/x", "{}"});
  auto some = batch_call_for(rows);
  CHECK(some.parts == (8u | 16u));
  CHECK(has(*some.values[3], "\"seq\":41"));
  CHECK(has(*some.values[4], "\"target_url\":\"http://h/x\""));
  CHECK(some.values[6] == std::optional<std::string>{"40"});
  CHECK(some.values[7] == std::optional<std::string>{std::string(64, 'a')});

  rows.fence = batch_fence{"00000000-0000-4000-8000-00000000000a",
                           {{partition_id{7}, 3}, {partition_id{200}, 12}}};
  auto fenced = batch_call_for(rows);
  CHECK(fenced.values[8] == std::optional<std::string>{
                              "00000000-0000-4000-8000-00000000000a"});
  CHECK(fenced.values[9] == std::optional<std::string>{"{7,200}"});
  CHECK(fenced.values[10] == std::optional<std::string>{"{3,12}"});
}
