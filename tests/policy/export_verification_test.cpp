#include "policy/audit_checkpoint.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/checkpoint_signature.hpp"
#include "policy/export_verification.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace hitl;

namespace {

// Three sealed entries, then a checkpoint of the third.
std::vector<std::string> export_lines(const signing_key& key) {
  std::vector<std::string> lines;
  std::string prev{genesis_prev_hash};
  audit_checkpoint c;
  for (int64_t seq = 1; seq <= 3; ++seq) {
    audit_entry e;
    e.seq = seq;
    e.decision_id = "d-" + std::to_string(seq);
    e.performed_by = "wargaming";
    e.at = from_micros(1764700000000000 + seq);
    e.details_json = R"({"n":)" + std::to_string(seq) + "}";
    e.ip_address = "127.0.0.1";
    seal(e, prev);
    prev = e.hash;
    lines.push_back(export_entry_line(e));
    c.seq = seq;
    c.hash = e.hash;
  }
  c.count = 3;
  c.at = from_micros(1764700001000000);
  sign_checkpoint(c, key);
  lines.push_back(export_checkpoint_line(c));
  return lines;
}

export_report verify(const std::vector<std::string>& lines,
                     const verify_key& key) {
  std::string text;
  for (const auto& l : lines)
    text += l + "\n";
  std::istringstream a{text}, b{text};
  return verify_export(a, b, key);
}

} // namespace

TEST_CASE("an intact export verifies; each fault names its line") {
  auto key = signing_key::generate();
  auto lines = export_lines(key);
  auto ok = verify(lines, key.public_key());
  CHECK_FALSE(ok.first_fault);
  CHECK(ok.entries == 3);
  CHECK(ok.checkpoints == 1);

  SUBCASE("an edited entry") {
    auto bad = lines;
    auto at = bad[1].find("wargaming");
    bad[1].replace(at, 9, "mallory__");
    auto r = verify(bad, key.public_key());
    REQUIRE(r.first_fault);
    CHECK(r.first_fault->line == 2);
  }
  SUBCASE("an entry removed from the middle") {
    auto bad = lines;
    bad.erase(bad.begin() + 1);
    auto r = verify(bad, key.public_key());
    REQUIRE(r.first_fault);
    CHECK(r.first_fault->line == 2);
    CHECK(r.first_fault->message.find("missing or out of order")
          != std::string::npos);
  }
  SUBCASE("the last entry cut off: the checkpoint names no entry") {
    auto bad = lines;
    bad.erase(bad.begin() + 2);
    auto r = verify(bad, key.public_key());
    REQUIRE(r.first_fault);
    CHECK(r.first_fault->line == 3);
  }
  SUBCASE("another key") {
    auto other = signing_key::generate();
    auto r = verify(lines, other.public_key());
    REQUIRE(r.first_fault);
    CHECK(r.first_fault->line == 4);
  }
  SUBCASE("a line of another type") {
    auto bad = lines;
    bad.push_back(R"({"type":"error","detail":"cut"})");
    auto r = verify(bad, key.public_key());
    REQUIRE(r.first_fault);
    CHECK(r.first_fault->line == 5);
  }
}

TEST_CASE("an entry of no decision exports decision_id null and reads back "
          "with the hash it was sealed with; an empty string is refused") {
  audit_entry e;
  e.seq = 1;
  e.action = audit_action::token_created;
  e.performed_by = "root";
  e.at = from_micros(1764700000000000);
  e.details_json = R"({"name":"alice","role":"reviewer","token_id":1})";
  seal(e, std::string{genesis_prev_hash});
  auto line = export_entry_line(e);
  CHECK(line.find(R"("decision_id":null)") != std::string::npos);
  auto back = parse_export_entry(line);
  REQUIRE(back.entry);
  CHECK(back.entry->decision_id.empty());
  auto copy = *back.entry;
  seal(copy, std::string{genesis_prev_hash});
  CHECK(copy.hash == e.hash);

  auto empty = line;
  empty.replace(empty.find(R"("decision_id":null)"),
                std::string_view{R"("decision_id":null)"}.size(),
                R"("decision_id":"")");
  auto refused = parse_export_entry(empty);
  CHECK_FALSE(refused.entry);
  CHECK(refused.error == "decision_id: expected a non-empty string or null");
}
