// Fuzzes the checks of path parameters and header text: valid_decision_id
// (the {decision_id} and {patch_id} segments) and storable_text (the
// User-Agent stored in the audit trail). Beyond "no crash":
// - an id it accepts is 1 to 255 of [A-Za-z0-9._:-], so it can be echoed
//   in any problem detail and stored in the decision_key domain;
// - storable_text returns at most the bytes asked for, valid UTF-8 with no
//   control character, is the identity on text that already is such, and
//   is idempotent.
// - parse_path_id (the edge's check of a path segment) accepts only clean
//   text of at most 255 characters that a 404 problem can echo, and a
//   valid decision id where one is asked for.

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

// Valid UTF-8 without C0 or C1 control characters. In valid UTF-8 a C1
// control (U+0080..U+009F) is exactly 0xC2 followed by 0x80..0x9F.
bool clean_text(std::string_view s) {
  if (!dumpable(s))
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7F)
      return false;
    if (u == 0xC2 && i + 1 < s.size()
        && static_cast<unsigned char>(s[i + 1]) <= 0x9F)
      return false;
  }
  return true;
}

void check_storable_text(std::string_view text, size_t max_bytes) {
  auto out = storable_text(text, max_bytes);
  FUZZ_REQUIRE(out.size() <= max_bytes);
  FUZZ_REQUIRE(clean_text(out));
  if (text.size() <= max_bytes && clean_text(text))
    FUZZ_REQUIRE(out == text);
  FUZZ_REQUIRE(storable_text(out, max_bytes) == out);
}

void check_path_id(const std::optional<std::string>& id, bool decision_id) {
  if (!id)
    return;
  FUZZ_REQUIRE(!id->empty() && storable(*id, 255) && clean_text(*id));
  FUZZ_REQUIRE(!decision_id || valid_decision_id(*id));
  FUZZ_REQUIRE(nlohmann::json::accept(
    problem(404, "no decision " + *id, {}).dump()));
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

  for (auto k : {path_id_kind::decision_id, path_id_kind::patch_id,
                 path_id_kind::file_name})
    check_path_id(parse_path_id(text, k), k == path_id_kind::decision_id);
  return 0;
}
