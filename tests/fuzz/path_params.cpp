// Fuzzes the checks of path parameters and header text: valid_decision_id
// (the {decision_id} and {patch_id} segments) and storable_text (the
// User-Agent stored in the audit trail). Beyond "no crash":
// - an id it accepts is 1 to 255 of [A-Za-z0-9._:-], so it can be echoed
//   in any problem detail and stored in the decision_key domain;
// - storable_text returns at most the bytes asked for, valid UTF-8 with no
//   control character, is the identity on text that already is such, and
//   is idempotent.
//
// parse_path_id (the edge's check of a path segment, being added to
// http/request_parsing.hpp on another branch): once it is there, add one
// line to LLVMFuzzerTestOneInput below,
//     check_path_id(parse_path_id(text));
// check_path_id takes its result whether it is a parsed<T> or an
// optional<request_error>, and checks that a refusal is a 400/404 problem
// that serializes and that an accepted id is a valid decision id.

#include "tests/fuzz/properties.hpp"

#include <algorithm>

using namespace hitl;
using namespace hitl::fuzz;

namespace {

bool id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':'
         || c == '-';
}

bool clean_text(std::string_view s) {
  return dumpable(s) && std::none_of(s.begin(), s.end(), [](char c) {
           auto u = static_cast<unsigned char>(c);
           return u < 0x20 || u == 0x7F;
         });
}

void check_storable_text(std::string_view text, size_t max_bytes) {
  auto out = storable_text(text, max_bytes);
  FUZZ_REQUIRE(out.size() <= max_bytes);
  FUZZ_REQUIRE(clean_text(out));
  if (text.size() <= max_bytes && clean_text(text))
    FUZZ_REQUIRE(out == text);
  FUZZ_REQUIRE(storable_text(out, max_bytes) == out);
}

// For parse_path_id; unused until it lands (see the top of the file).
[[maybe_unused]] void check_path_id(const parsed<std::string>& p) {
  if (const auto* id = accepted(p, {400, 404}))
    FUZZ_REQUIRE(valid_decision_id(*id));
}

[[maybe_unused]] void
check_path_id(const std::optional<request_error>& refused) {
  if (refused)
    check_refusal(*refused, {400, 404});
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = as_text(data, size);

  bool valid = valid_decision_id(text);
  bool expected = !text.empty() && text.size() <= 255
                  && std::all_of(text.begin(), text.end(), id_char);
  FUZZ_REQUIRE(valid == expected);
  if (valid)
    FUZZ_REQUIRE(nlohmann::json::accept(
      problem(404, "no decision " + std::string{text}, {}).dump()));

  // The server's bound for User-Agent, and a small one to reach the cut.
  check_storable_text(text, 512);
  check_storable_text(text, size % 17);
  return 0;
}
