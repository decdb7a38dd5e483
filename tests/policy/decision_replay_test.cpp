#include "policy/decision_replay.hpp"

#include "policy/lifecycle.hpp"
#include "policy/policy_config.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <vector>

using namespace hitl;

namespace {

// A decision's life as the service writes it: each change through the
// lifecycle, each note an audit entry, and the row as the auditor stores
// it (a created row has version 1; every later change is one UPDATE).
class life {
public:
  life(const std::string& id, urgency severity, bool auto_approvable = false)
    : id_(id) {
    new_decision nd;
    nd.patch_id = "p-" + id;
    nd.metadata.apv_id = "apv";
    nd.metadata.package_name = "zlib";
    nd.metadata.current_version = "1";
    nd.metadata.target_version = "2";
    nd.metadata.severity = severity;
    ml_prediction ml;
    ml.confidence = auto_approvable ? 0.99 : 0.5;
    ml.prediction = true;
    nd.ml = ml;
    nd.wargaming = wargaming_result{true, true, true, {}, {}, {}};
    policy_config cfg;
    apply(create_change(cfg, cfg.version(), nd, content_hash(nd), id,
                        "wargaming", now()),
          "wargaming", false);
  }

  life& approve(const std::string& who) {
    auto ch = approve_change(rec_, who, std::string{"ok"}, now());
    REQUIRE(ch);
    apply(ch.value(), who, true);
    return *this;
  }

  life& reject(const std::string& who) {
    auto ch = reject_change(rec_, who, "broken", std::nullopt, now());
    REQUIRE(ch);
    apply(ch.value(), who, true);
    return *this;
  }

  life& cancel(const std::string& who) {
    auto ch = cancel_change(rec_, who, std::nullopt, now());
    REQUIRE(ch);
    apply(ch.value(), who, true);
    return *this;
  }

  life& escalate(int level) {
    auto ch = escalate_change(rec_, level, now());
    REQUIRE(ch);
    apply(*ch, "system:sla", true);
    return *this;
  }

  life& comment(const std::string& who) {
    apply(comment_change(rec_, hitl::comment{0, id_, who, "hm", now()}), who,
          false);
    return *this;
  }

  /// An entry as a forger would add it, sealed or not.
  life& forge(audit_action action, const std::string& who,
              std::string details = "{}") {
    audit_entry e;
    e.seq = static_cast<int64_t>(entries_.size()) + 1;
    e.decision_id = id_;
    e.action = action;
    e.performed_by = who;
    e.at = now();
    e.details_json = std::move(details);
    entries_.push_back(e);
    return *this;
  }

  /// The row as hitl_decisions and hitl_approvals hold it.
  stored_decision row() const {
    stored_decision s;
    s.decision_id = rec_.decision_id;
    s.status = rec_.status;
    s.decided_by = rec_.decided_by;
    for (const auto& a : rec_.approvals)
      s.approvals.push_back(a.by);
    s.approvals_required = rec_.approvals_required;
    s.escalation_level = rec_.escalation_level;
    s.version = version_;
    s.created_by = rec_.created_by;
    return s;
  }

  const std::vector<audit_entry>& entries() const {
    return entries_;
  }

  std::vector<decision_mismatch> check(const stored_decision& row) const {
    decision_replay replay{id_};
    for (const auto& e : entries_)
      replay.feed(e);
    return replay.compare(row);
  }

private:
  void apply(const change& ch, const std::string& caller, bool updates) {
    if (!ch.new_comment) {
      rec_ = ch.after;
      if (updates)
        ++version_;
    }
    for (const auto& note : ch.notes)
      forge(note.action, note.performed_by.value_or(caller),
            note.details_json);
  }

  std::string id_;
  decision_record rec_;
  int64_t version_ = 1;
  std::vector<audit_entry> entries_;
};

std::vector<std::string> fields(const std::vector<decision_mismatch>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms)
    out.push_back(m.field);
  return out;
}

} // namespace

TEST_CASE("replay: every kind of life agrees with its row") {
  std::vector<life> lives;
  lives.emplace_back("d-auto", urgency::high, true);
  lives.emplace_back("d-pending", urgency::high);
  lives.emplace_back("d-approved", urgency::high);
  lives.back().comment("carol").approve("carol").comment("dave");
  lives.emplace_back("d-two", urgency::critical);
  lives.back().escalate(1).approve("carol").escalate(2).approve("dave");
  lives.emplace_back("d-rejected", urgency::medium);
  lives.back().escalate(1).reject("carol");
  lives.emplace_back("d-cancelled", urgency::low);
  lives.back().cancel("eureka");
  for (const auto& l : lives) {
    CAPTURE(l.row().decision_id);
    CHECK(l.check(l.row()).empty());
  }
  CHECK(lives[0].row().status == decision_status::auto_approved);
  CHECK(lives[0].row().version == 1);
  CHECK(lives[3].row().version == 5);
}

TEST_CASE("replay: a verdict flipped in the table is named with its field") {
  life l{"dec-42", urgency::high};
  auto row = l.row();
  row.status = decision_status::approved;
  row.decided_by = "mallory";
  auto ms = l.check(row);
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].field == "decision");
  CHECK(ms[0].message
        == "decision dec-42: decision is 'approved' in hitl_decisions but the "
           "audit chain says 'pending'");
  CHECK(ms[1].field == "decided_by");
  CHECK(ms[1].in_table == "'mallory'");
  CHECK(ms[1].in_chain == "null");
}

TEST_CASE("replay: approvals, level, version, quorum and creator") {
  life l{"d-1", urgency::critical};
  l.escalate(1).approve("carol").approve("dave");
  SUBCASE("an approval deleted") {
    auto row = l.row();
    row.approvals = {"carol"};
    auto ms = l.check(row);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].message
          == "decision d-1: approvals are [carol] in hitl_approvals but the "
             "audit chain says [carol, dave]");
  }
  SUBCASE("approvals reordered") {
    auto row = l.row();
    std::reverse(row.approvals.begin(), row.approvals.end());
    CHECK(fields(l.check(row)) == std::vector<std::string>{"approvals"});
  }
  SUBCASE("the escalation level changed") {
    auto row = l.row();
    row.escalation_level = 0;
    auto ms = l.check(row);
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].message
          == "decision d-1: escalation_level is 0 in hitl_decisions but the "
             "audit chain says 1");
  }
  SUBCASE("the version changed") {
    auto row = l.row();
    CHECK(row.version == 4);
    row.version = 3;
    CHECK(l.check(row)[0].message
          == "decision d-1: version is 3 in hitl_decisions but the audit "
             "chain says 4");
  }
  SUBCASE("the quorum and the creator") {
    auto row = l.row();
    row.approvals_required = 1;
    row.created_by = "carol";
    CHECK(fields(l.check(row))
          == std::vector<std::string>{"approvals_required", "created_by"});
  }
}

TEST_CASE("replay: entries the lifecycle refuses are named, seq and all") {
  SUBCASE("an 'approved' that does not complete the quorum") {
    life l{"d-1", urgency::critical};
    l.forge(audit_action::approved, "carol");
    auto ms = l.check(l.row());
    REQUIRE(ms.size() == 1);
    CHECK(ms[0].field == "lifecycle");
    CHECK(ms[0].message
          == "decision d-1: the audit chain breaks the lifecycle at seq 2: "
             "'approved' where the lifecycle records 'approval_added' "
             "(approval 1 of 2)");
  }
  SUBCASE("the creator approving") {
    life l{"d-1", urgency::high};
    l.forge(audit_action::approved, "wargaming");
    CHECK(l.check(l.row())[0].message.find("refuses the approval by "
                                           "'wargaming' (self_approval)")
          != std::string::npos);
  }
  SUBCASE("one reviewer twice") {
    life l{"d-1", urgency::critical};
    l.approve("carol").forge(audit_action::approved, "carol");
    CHECK(l.check(l.row())[0].message.find("already_approved_by_reviewer")
          != std::string::npos);
  }
  SUBCASE("a verdict after a final one") {
    life l{"d-1", urgency::high};
    l.reject("carol").forge(audit_action::approved, "dave");
    CHECK(l.check(l.row())[0].message.find("(not_open)") != std::string::npos);
  }
  SUBCASE("an escalation that does not rise") {
    life l{"d-1", urgency::high};
    l.escalate(2).forge(audit_action::escalated, "system:sla",
                        R"({"level":1})");
    CHECK(l.check(l.row())[0].message
          == "decision d-1: the audit chain breaks the lifecycle at seq 3: "
             "the lifecycle refuses the escalation to level 1 (the decision "
             "is 'escalated' at level 2)");
  }
  SUBCASE("an entry before 'created', a second 'created'") {
    life l{"d-1", urgency::high};
    decision_replay early{"d-1"};
    auto first = l.entries().front();
    auto approval = first;
    approval.action = audit_action::approval_added;
    early.feed(approval);
    early.feed(first);
    CHECK(early.compare(l.row())[0].message.find(
            "'approval_added' before any 'created' entry")
          != std::string::npos);
    l.forge(audit_action::created, "wargaming", first.details_json);
    CHECK(l.check(l.row())[0].message.find("a second 'created' entry")
          != std::string::npos);
  }
}

TEST_CASE("cross check: rows and entries merged in decision order") {
  life a{"a", urgency::high}, b{"b", urgency::high}, c{"c", urgency::high},
    d{"d", urgency::high};
  b.approve("carol");
  // Rows a, b (its verdict flipped back to pending), d; entries a, b, c, d.
  std::vector<stored_decision> rows{a.row(), b.row(), d.row()};
  rows[1].status = decision_status::pending;
  rows[1].decided_by.reset();
  stored_decision lone = d.row();
  lone.decision_id = "e"; // a row that no entry created
  rows.push_back(lone);
  std::vector<audit_entry> entries;
  for (const auto* l : {&a, &b, &c, &d})
    entries.insert(entries.end(), l->entries().begin(), l->entries().end());
  size_t r = 0, e = 0;
  decision_cross_check check;
  check.run(
    [&]() -> std::optional<stored_decision> {
      if (r == rows.size())
        return std::nullopt;
      return rows[r++];
    },
    [&]() -> std::optional<audit_entry> {
      if (e == entries.size())
        return std::nullopt;
      return entries[e++];
    });
  CHECK(check.decisions() == 4);
  std::vector<std::string> got;
  for (const auto& m : check.mismatches())
    got.push_back(m.decision_id + ":" + m.field);
  CHECK(got
        == std::vector<std::string>{"b:decision", "b:decided_by", "c:row",
                                    "e:entries"});
  CHECK(check.mismatches()[2].message
        == "decision c: the audit chain has 1 entries for it, but "
           "hitl_decisions has no row");
}

TEST_CASE("cross check: keeps the first mismatches, counts them all, holds "
          "one decision at a time") {
  // 10,000 decisions made on the fly, every row's version off by one.
  const int n = 10000;
  int r = 0, e = 0;
  auto id = [](int i) {
    auto s = std::to_string(i);
    return "d-" + std::string(6 - s.size(), '0') + s;
  };
  life proto{"x", urgency::high};
  auto created = proto.entries().front();
  decision_cross_check check{5};
  check.run(
    [&]() -> std::optional<stored_decision> {
      if (r == n)
        return std::nullopt;
      auto row = proto.row();
      row.decision_id = id(r++);
      row.version = 2;
      return row;
    },
    [&]() -> std::optional<audit_entry> {
      if (e == n)
        return std::nullopt;
      auto entry = created;
      entry.decision_id = id(e);
      entry.seq = ++e;
      return entry;
    });
  CHECK(check.decisions() == n);
  CHECK(check.mismatch_count() == n);
  REQUIRE(check.mismatches().size() == 5);
  CHECK(check.mismatches()[4].decision_id == "d-000004");
}
