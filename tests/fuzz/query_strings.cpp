// Fuzzes the query strings of GET /hitl/patches/pending,
// /hitl/analytics/audit-logs, /hitl/analytics/summary and
// /hitl/decisions/{id}?wait=N. The input is the raw text after '?', split
// into pairs by the server's own splitter (RESTinio's try_parse_query with
// javascript_compatible traits, as query_of in http/server.cpp); a text it
// refuses is the server's plain 400. Beyond "no crash":
// - a refusal is a 400 problem that serializes;
// - accepted values are in their documented ranges, texts fit their
//   columns, time ranges are ordered and their bounds print and read back;
// - a pending cursor the server decodes encodes back to itself.

#include "tests/fuzz/properties.hpp"

#include <restinio/uri_helpers.hpp>

using namespace hitl;
using namespace hitl::fuzz;

namespace {

// A bound that format_iso prints in its fixed form (years 0 to 9999) must
// read back as the same instant: responses echo them.
void check_time(const std::optional<timestamp>& t) {
  if (!t)
    return;
  auto text = format_iso(*t);
  FUZZ_REQUIRE(dumpable(text));
  if (text.size() == 27 && text[4] == '-')
    FUZZ_REQUIRE(parse_iso(text) == t);
}

void check_range(const std::optional<timestamp>& since,
                 const std::optional<timestamp>& until) {
  check_time(since);
  check_time(until);
  FUZZ_REQUIRE(!since || !until || *since <= *until);
}

void check_pending(const query_params& q) {
  auto p = parse_pending_query(q);
  const auto* v = accepted(p, {400});
  if (v == nullptr)
    return;
  FUZZ_REQUIRE(v->limit >= 1 && v->limit <= 100);
  FUZZ_REQUIRE(storable(v->cursor, 512));
  if (!v->cursor)
    return;
  // The server decodes the cursor after the parse (http/server.cpp).
  if (auto c = decode_cursor(*v->cursor, v->sort)) {
    FUZZ_REQUIRE(valid_decision_id(c->decision_id));
    auto back = decode_cursor(encode_cursor(*c, v->sort), v->sort);
    FUZZ_REQUIRE(back && back->key1 == c->key1 && back->key2 == c->key2
                 && back->decision_id == c->decision_id);
  }
}

void check_audit(const query_params& q) {
  auto p = parse_audit_query(q);
  const auto* v = accepted(p, {400});
  if (v == nullptr)
    return;
  FUZZ_REQUIRE(!v->decision_id || valid_decision_id(*v->decision_id));
  FUZZ_REQUIRE(storable(v->performed_by, 255));
  FUZZ_REQUIRE(v->limit >= 1 && v->limit <= 1000);
  FUZZ_REQUIRE(!v->after_seq || *v->after_seq >= 0);
  check_range(v->since, v->until);
}

void check_summary(const query_params& q) {
  auto p = parse_summary_query(q);
  if (const auto* v = accepted(p, {400}))
    check_range(v->since, v->until);
}

void check_wait(const query_params& q) {
  auto p = parse_wait_query(q);
  if (const auto* v = accepted(p, {400}))
    FUZZ_REQUIRE(*v >= 0 && *v <= 60);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto split = restinio::try_parse_query<
    restinio::parse_query_traits::javascript_compatible>(as_text(data, size));
  if (!split)
    return 0;
  query_params q;
  for (const auto& [k, v] : *split)
    q.emplace_back(std::string{k}, std::string{v});
  check_pending(q);
  check_audit(q);
  check_summary(q);
  check_wait(q);
  return 0;
}
