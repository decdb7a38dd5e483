// Fuzzes the bodies of POST /hitl/patches/{id}/approve, reject, comment and
// cancel: every input goes through all four parsers, which share a corpus.
// Beyond "no crash":
// - a refusal is a 400 or 422 problem that serializes;
// - an accepted body names a valid decision id, if any, and its texts fit
//   their columns (text, at most 10,000 characters, no NUL);
// - the lifecycle rule agrees with the parser (a reason the parser took is
//   not "required" to the rule), and the change it makes writes a record,
//   an event and audit entries that are valid JSON and verify as a chain.

#include "tests/fuzz/properties.hpp"

#include "policy/policy_config.hpp"

using namespace hitl;
using namespace hitl::fuzz;

namespace {

constexpr size_t max_text = 10000;

const std::string reviewer = "alice";

// An open decision that one approval completes.
const decision_record& open_record() {
  static const decision_record rec = [] {
    new_decision nd;
    nd.decision_id = "dec-1";
    nd.patch_id = "patch-1";
    nd.metadata = {"APV-1", std::nullopt, "openssl", "3.0.1", "3.0.2",
                   urgency::medium, std::nullopt, {}, {}, std::nullopt};
    policy_config cfg;
    return create_change(cfg, cfg.version(), nd, content_hash(nd), "dec-1",
                         "wargaming", fixed_now())
      .after;
  }();
  return rec;
}

bool valid_id(const std::optional<std::string>& id) {
  return !id || valid_decision_id(*id);
}

bool required_text(const std::string& s) {
  return s.find_first_not_of(" \t\r\n\f\v") != std::string::npos
         && storable(s, max_text);
}

template <class T>
void check_outcome(const outcome<T>& out) {
  FUZZ_REQUIRE(static_cast<bool>(out));
  check_change(out.value(), reviewer);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = as_text(data, size);
  const auto& rec = open_record();
  auto now = fixed_now();

  auto approve = parse_approve(body);
  if (const auto* b = accepted(approve, {400, 422})) {
    FUZZ_REQUIRE(valid_id(b->decision_id));
    FUZZ_REQUIRE(storable(b->comment, max_text));
    check_outcome(approve_change(rec, reviewer, b->comment, now));
  }

  auto reject = parse_reject(body);
  if (const auto* b = accepted(reject, {400, 422})) {
    FUZZ_REQUIRE(valid_id(b->decision_id));
    FUZZ_REQUIRE(required_text(b->reason));
    FUZZ_REQUIRE(storable(b->comment, max_text));
    check_outcome(reject_change(rec, reviewer, b->reason, b->comment, now));
  }

  auto comment_p = parse_comment(body);
  if (const auto* b = accepted(comment_p, {400, 422})) {
    FUZZ_REQUIRE(valid_id(b->decision_id));
    FUZZ_REQUIRE(required_text(b->comment));
    comment cm{1, rec.decision_id, reviewer, b->comment, now};
    FUZZ_REQUIRE(nlohmann::json::accept(to_json(cm).dump()));
    check_change(comment_change(rec, cm), reviewer);
  }

  auto cancel = parse_cancel(body);
  if (const auto* b = accepted(cancel, {400, 422})) {
    FUZZ_REQUIRE(valid_id(b->decision_id));
    FUZZ_REQUIRE(storable(b->reason, max_text));
    check_outcome(cancel_change(rec, reviewer, b->reason, now));
  }
  return 0;
}
