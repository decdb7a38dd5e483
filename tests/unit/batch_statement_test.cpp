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
          == std::vector<unsigned>{114, 114, 114, 114, 114, 20, 2950, 1005,
                                   1016, 1016, 1009, 1016, 1009});
    for (unsigned k = 0; k < 5; ++k) {
      bool in = (parts >> k) & 1;
      CHECK(has(s.text, ctes[k]) == in);
      CHECK(has(s.text, "$" + std::to_string(k + 1) + "::json") == in);
    }
    CHECK(has(s.text, "hitl_advance_chains($7::uuid, $8::smallint[], "
                      "$9::bigint[],"));
    CHECK(has(s.text, "$10::bigint[], $11::text[], $12::bigint[],"));
    CHECK(has(s.text, "$13::text[])"));
    CHECK(has(s.text, "hitl_all_written((SELECT count(*) FROM upd),"
                      " $6::bigint)")
          == ((parts & 1) != 0));
    // Every {fragment} was expanded: what is left in braces is SQL's own '{}'.
    for (auto at = s.text.find('{'); at != std::string::npos;
         at = s.text.find('{', at + 1))
      CHECK(s.text.compare(at, 2, "{}") == 0);
    CHECK_FALSE(has(s.text, "$14"));
  }
  CHECK_THROWS_AS(batch_statement_for(batch_parts_all + 1), std::logic_error);
}

TEST_CASE("a batch's parameter values follow its statement's parameters") {
  batch_rows rows;
  auto none = batch_call_for(rows);
  CHECK(none.parts == 0);
  REQUIRE(none.values.size() == 13);
  for (unsigned k = 0; k < 5; ++k)
    CHECK(none.values[k] == std::optional<std::string>{"[]"});
  CHECK(none.values[5] == std::optional<std::string>{"0"});
  // No cluster member, no chains: NULL, which hitl_advance_chains passes.
  for (unsigned k = 6; k < 13; ++k)
    CHECK_FALSE(none.values[k]);
  auto pointers = none.pointers();
  REQUIRE(pointers.size() == 13);
  CHECK(std::string{pointers[0]} == "[]");
  CHECK(pointers[6] == nullptr);

  audit_entry e;
  e.seq = 41; // not written: the database gives an entry of a partition its seq
  e.link = chain_link{partition_id{7}, 5, 3};
  e.decision_id = "d-1";
  e.performed_by = "bob";
  e.prev_hash = std::string(64, 'a');
  e.hash = std::string(64, 'b');
  rows.entries.push_back(e);
  rows.outbox.push_back({"decision.created", "d-1", "http://h/x", "{}"});
  rows.chains.push_back({partition_id{7}, 3, chain_head{4, std::string(64, 'a')},
                         chain_head{5, std::string(64, 'b')}});
  rows.chains.push_back({partition_id{200}, 12,
                         chain_head{0, std::string(64, '0')},
                         chain_head{0, std::string(64, '0')}});
  auto some = batch_call_for(rows);
  CHECK(some.parts == (8u | 16u));
  CHECK_FALSE(has(*some.values[3], "\"seq\""));
  CHECK(has(*some.values[3], "\"partition_id\":7,\"pseq\":5,\"epoch\":3"));
  CHECK(has(*some.values[4], "\"target_url\":\"http://h/x\""));
  CHECK_FALSE(some.values[6]);
  CHECK(some.values[7] == std::optional<std::string>{"{7,200}"});
  CHECK(some.values[8] == std::optional<std::string>{"{3,12}"});
  CHECK(some.values[9] == std::optional<std::string>{"{4,0}"});
  CHECK(some.values[10]
        == std::optional<std::string>{"{" + std::string(64, 'a') + ","
                                      + std::string(64, '0') + "}"});
  CHECK(some.values[11] == std::optional<std::string>{"{5,0}"});

  rows.fence_node = "00000000-0000-4000-8000-00000000000a";
  auto fenced = batch_call_for(rows);
  CHECK(fenced.values[6] == std::optional<std::string>{
                              "00000000-0000-4000-8000-00000000000a"});

}
