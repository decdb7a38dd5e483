#include "policy/audit_chain.hpp"

#include "policy/json_text.hpp"
#include "policy/sha256.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace hitl {

namespace {

using json = nlohmann::json;

// Replacing invalid UTF-8 instead of throwing keeps hashing total; both the
// sealer and the verifier go through here, so they agree on the bytes.
std::string dump_compact(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_details(const std::string& text) {
  auto details = json::parse(text, nullptr, false);
  if (details.is_discarded() || !details.is_object())
    throw std::invalid_argument("audit details are not a JSON object");
  return details;
}

chain_break make_break(int64_t seq, break_kind kind, std::string message) {
  return chain_break{seq, kind, std::move(message)};
}

} // namespace

// -- entries ------------------------------------------------------------------

std::string canonical_details(const json& details) {
  return dump_compact(details);
}

namespace {

// The canonical text with `details` already in canonical form.
std::string canonical_text(const audit_entry& entry, std::string_view details) {
  // Keys in sorted order, as the DOM's std::map held them when the chain's
  // first entries were sealed; json_text writes the same bytes.
  std::string out;
  out.reserve(256 + details.size());
  json_text w{out, json_text::invalid_utf8::replace};
  w.begin_object();
  w.key("action").string(to_string(entry.action));
  if (entry.decision_id.empty())
    w.key("decision_id").null();
  else
    w.key("decision_id").string(entry.decision_id);
  w.key("details").raw(details);
  w.key("ip_address").string(entry.ip_address);
  w.key("performed_by").string(entry.performed_by);
  w.key("seq").integer(entry.seq);
  w.key("timestamp").time(entry.at);
  w.key("user_agent").string(entry.user_agent);
  w.end_object();
  return out;
}

} // namespace

std::string canonical_json(const audit_entry& entry) {
  return canonical_text(entry,
                        dump_compact(parse_details(entry.details_json)));
}

std::string compute_hash(std::string_view prev_hash,
                         std::string_view canonical) {
  std::string data;
  data.reserve(prev_hash.size() + canonical.size());
  data.append(prev_hash).append(canonical);
  return sha256_hex(data);
}

void seal(audit_entry& entry, std::string_view prev_hash) {
  entry.prev_hash = std::string{prev_hash};
  // The details are canonical already (the precondition): parsing and
  // writing them again was a tenth of the service's work per creation.
  entry.hash = compute_hash(entry.prev_hash,
                            canonical_text(entry, entry.details_json));
}

void seal_next(chain_head& head, audit_entry& entry) {
  entry.seq = head.seq + 1;
  seal(entry, head.hash);
  head.seq = entry.seq;
  head.hash = entry.hash;
}

// -- verification -------------------------------------------------------------

std::string_view to_string(break_kind k) {
  switch (k) {
    case break_kind::altered:
      return "altered";
    case break_kind::removed:
      return "removed";
    case break_kind::inserted_or_reordered:
      return "inserted_or_reordered";
  }
  return "unknown";
}

std::optional<chain_break> chain_verifier::feed(const audit_entry& entry) {
  ++checked_;
  bool self_consistent = false;
  try {
    self_consistent
      = compute_hash(entry.prev_hash, canonical_json(entry)) == entry.hash;
  } catch (const std::invalid_argument&) {
    // Unparseable details cannot be what was sealed.
  }
  auto seq = std::to_string(entry.seq);
  std::optional<chain_break> result;
  // Checks go from the coarsest symptom to the finest, so that a deletion is
  // not reported as the broken link it also causes.
  if (entry.seq < expected_seq_) {
    result = make_break(entry.seq, break_kind::inserted_or_reordered,
                        "entry " + seq + " follows entry "
                          + std::to_string(last_seq_)
                          + ": an entry was inserted or reordered");
  } else if (entry.seq > expected_seq_) {
    auto first = std::to_string(expected_seq_);
    auto last = std::to_string(entry.seq - 1);
    result = make_break(entry.seq, break_kind::removed,
                        first == last
                          ? "entry " + first + " is missing before entry "
                              + seq
                          : "entries " + first + " to " + last
                              + " are missing before entry " + seq);
  } else if (!last_stale_ && entry.prev_hash != last_hash_) {
    // Linking past the previous entry to the one before it means the
    // previous entry is a stranger that was slipped in, seq and all.
    if (before_last_hash_ && entry.prev_hash == *before_last_hash_) {
      auto forged = std::to_string(last_seq_);
      result = make_break(last_seq_, break_kind::inserted_or_reordered,
                          "entry " + forged + " was inserted: entry " + seq
                            + " links to the entry before it");
    } else {
      result = make_break(entry.seq, break_kind::inserted_or_reordered,
                          "entry " + seq + " does not link to entry "
                            + std::to_string(last_seq_)
                            + ": an entry was inserted or reordered");
    }
  } else if (!self_consistent) {
    result = make_break(entry.seq, break_kind::altered,
                        "entry " + seq
                          + " was altered: its hash does not match its "
                            "content");
  }
  last_stale_ = !self_consistent;
  before_last_hash_ = last_hash_;
  last_hash_ = entry.hash;
  last_seq_ = entry.seq;
  expected_seq_ = std::max(expected_seq_, entry.seq + 1);
  return result;
}

} // namespace hitl
