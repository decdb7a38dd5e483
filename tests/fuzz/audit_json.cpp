// Fuzzes the audit chain's canonical JSON (policy/audit_chain.*) and the
// JSON writer it shares with every response (policy/json_text.*).
// The input is `details` followed, after each 0xFF byte, by decision_id,
// performed_by, user_agent and ip_address (any bytes but 0xFF, so also
// text that is not UTF-8). Beyond "no crash":
// - canonical form is idempotent: canonical(canonical(x)) == canonical(x);
// - an entry's canonical text is valid JSON and the same whatever the
//   formatting of its details (a store that reformats jsonb keeps the
//   chain), and an entry sealed over canonical details verifies even when
//   read back with the details formatted differently;
// - details that are not a JSON object throw std::invalid_argument from
//   canonical_json and are reported as `altered` by the verifier;
// - json_text writes every string as nlohmann's dump does, byte for byte,
//   and refuses (strict) or replaces exactly where nlohmann does; what
//   replacing gives is valid JSON.

#include "tests/fuzz/properties.hpp"

#include "policy/json_text.hpp"

#include <stdexcept>
#include <vector>

using namespace hitl;
using namespace hitl::fuzz;

namespace {

using json = nlohmann::json;

std::vector<std::string_view> split(std::string_view in, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = in.find(sep);
    out.push_back(in.substr(0, at));
    if (at == std::string_view::npos)
      return out;
    in.remove_prefix(at + 1);
  }
}

std::optional<std::string> dump_or_nothing(std::string_view s,
                                           json::error_handler_t h) {
  try {
    return json(s).dump(-1, ' ', false, h);
  } catch (const json::type_error&) {
    return std::nullopt;
  }
}

// json_text against the DOM it replaced, as a value and as a key.
void check_writer(std::string_view s) {
  auto strict = dump_or_nothing(s, json::error_handler_t::strict);
  auto replaced = dump_or_nothing(s, json::error_handler_t::replace);
  FUZZ_REQUIRE(replaced && json::accept(*replaced));
  std::string out;
  json_text{out, json_text::invalid_utf8::replace}.string(s);
  FUZZ_REQUIRE(out == *replaced);
  out.clear();
  json_text{out, json_text::invalid_utf8::replace}.begin_object().key(s)
    .integer(1).end_object();
  FUZZ_REQUIRE(out == "{" + *replaced + ":1}");
  out.clear();
  try {
    json_text{out}.string(s);
    FUZZ_REQUIRE(strict && out == *strict);
  } catch (const json::type_error&) {
    FUZZ_REQUIRE(!strict);
  }
}

std::optional<std::string> field(const std::vector<std::string_view>& parts,
                                 size_t i) {
  if (i < parts.size())
    return std::string{parts[i]};
  return std::nullopt;
}

audit_entry entry_of(const std::vector<std::string_view>& parts) {
  audit_entry e;
  e.seq = 1;
  e.decision_id = field(parts, 1).value_or("d-1");
  e.action = audit_action::commented;
  e.performed_by = field(parts, 2).value_or("alice");
  e.user_agent = field(parts, 3);
  e.ip_address = field(parts, 4);
  e.at = fixed_now();
  return e;
}

void check_not_object(audit_entry e) {
  try {
    (void) canonical_json(e);
    FUZZ_REQUIRE(!"canonical_json took details that are not an object");
  } catch (const std::invalid_argument&) {
  }
  e.prev_hash = std::string{genesis_prev_hash};
  e.hash = compute_hash(e.prev_hash, "{}");
  auto brk = chain_verifier{}.feed(e);
  FUZZ_REQUIRE(brk && brk->kind == break_kind::altered);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto parts = split(as_text(data, size), '\xFF');
  for (size_t i = 1; i < parts.size(); ++i)
    check_writer(parts[i]);
  auto text = parts[0];
  auto e = entry_of(parts);
  e.details_json = std::string{text};

  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    check_not_object(e);
    return 0;
  }
  auto canonical = canonical_details(doc);
  FUZZ_REQUIRE(canonical_details(json::parse(canonical)) == canonical);

  auto as_given = canonical_json(e);
  FUZZ_REQUIRE(json::accept(as_given));
  audit_entry sealed = e;
  sealed.details_json = canonical;
  FUZZ_REQUIRE(canonical_json(sealed) == as_given);

  seal(sealed, genesis_prev_hash);
  FUZZ_REQUIRE(sealed.hash == compute_hash(genesis_prev_hash, as_given));
  chain_verifier verifier;
  FUZZ_REQUIRE(!verifier.feed(sealed));
  // Read back as a store that reformats the details would return it.
  audit_entry stored = sealed;
  stored.details_json = std::string{text};
  FUZZ_REQUIRE(!chain_verifier{}.feed(stored));
  // A second entry linked to it continues the chain.
  audit_entry next = sealed;
  next.seq = 2;
  seal(next, sealed.hash);
  FUZZ_REQUIRE(!verifier.feed(next));
  return 0;
}
