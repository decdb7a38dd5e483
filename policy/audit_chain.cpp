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
  if (entry.link)
    w.key("epoch").integer(entry.link->epoch);
  w.key("ip_address").string(entry.ip_address);
  if (entry.link)
    w.key("partition").integer(entry.link->partition.value);
  w.key("performed_by").string(entry.performed_by);
  if (entry.link)
    w.key("pseq").integer(entry.link->pseq);
  else
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
  auto& place = entry.link ? entry.link->pseq : entry.seq;
  place = head.seq + 1;
  seal(entry, head.hash);
  head.seq = place;
  head.hash = entry.hash;
}

chain_heads chain_heads::after_prefix(const chain_head& prefix) {
  chain_heads h;
  h.prefix = prefix;
  for (auto& p : h.partitions)
    p = chain_head{0, prefix.hash};
  return h;
}

int64_t chain_heads::count() const {
  int64_t n = prefix.seq;
  for (const auto& p : partitions)
    n += p.seq;
  return n;
}

std::string chains_root(const chain_heads& heads) {
  std::string text;
  text.reserve(100 + partition_count * 90);
  text += "prefix " + std::to_string(heads.prefix.seq) + " "
          + heads.prefix.hash + "\n";
  for (int p = 0; p < partition_count; ++p) {
    const auto& h = heads.partitions[static_cast<size_t>(p)];
    if (h.seq != 0)
      text += std::to_string(p) + " " + std::to_string(h.seq) + " " + h.hash
              + "\n";
  }
  return sha256_hex(text);
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

chain_verifier::chain_verifier(partition_id p, const chain_head& prefix_end)
  : partition_(p), last_hash_(prefix_end.hash) {
}

std::string chain_verifier::name(int64_t place) const {
  if (!partition_)
    return "entry " + std::to_string(place);
  return "partition " + std::to_string(partition_->value) + " entry "
         + std::to_string(place);
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
  auto pos = entry.link ? entry.link->pseq : entry.seq;
  auto here = name(pos);
  if (partition_)
    here += " (seq " + std::to_string(entry.seq) + ")";
  std::optional<chain_break> result;
  // Checks go from the coarsest symptom to the finest, so that a deletion is
  // not reported as the broken link it also causes.
  if (pos < expected_pos_) {
    result = make_break(entry.seq, break_kind::inserted_or_reordered,
                        here + " follows " + name(last_pos_)
                          + ": an entry was inserted or reordered");
  } else if (pos > expected_pos_) {
    auto first = expected_pos_;
    auto last = pos - 1;
    auto missing = first == last
                     ? name(first) + " is missing"
                     : (partition_ ? "partition "
                                       + std::to_string(partition_->value)
                                       + " entries "
                                   : std::string{"entries "})
                         + std::to_string(first) + " to "
                         + std::to_string(last) + " are missing";
    result = make_break(entry.seq, break_kind::removed,
                        missing + " before " + here);
  } else if (!last_stale_ && entry.prev_hash != last_hash_) {
    // Linking past the previous entry to the one before it means the
    // previous entry is a stranger that was slipped in, place and all.
    if (before_last_hash_ && entry.prev_hash == *before_last_hash_) {
      result = make_break(last_seq_of_last_, break_kind::inserted_or_reordered,
                          name(last_pos_) + " was inserted: " + here
                            + " links to the entry before it");
    } else {
      result = make_break(entry.seq, break_kind::inserted_or_reordered,
                          here + " does not link to "
                            + (last_pos_ == 0 && partition_
                                 ? std::string{"the end of the common prefix"}
                                 : name(last_pos_))
                            + ": an entry was inserted or reordered");
    }
  } else if (!self_consistent) {
    result = make_break(entry.seq, break_kind::altered,
                        here
                          + " was altered: its hash does not match its "
                            "content");
  }
  last_stale_ = !self_consistent;
  before_last_hash_ = last_hash_;
  last_hash_ = entry.hash;
  last_pos_ = pos;
  last_seq_of_last_ = entry.seq;
  expected_pos_ = std::max(expected_pos_, pos + 1);
  return result;
}

std::optional<chain_break> chains_verifier::feed(const audit_entry& entry) {
  ++checked_;
  auto seq = std::to_string(entry.seq);
  if (!entry.link) {
    if (prefix_closed_)
      return make_break(entry.seq, break_kind::inserted_or_reordered,
                        "entry " + seq
                          + " has no partition, but the common prefix "
                            "ended before it: it was inserted");
    return prefix_.feed(entry);
  }
  if (!prefix_closed_) {
    prefix_closed_ = true;
    prefix_end_ = prefix_.last();
  }
  auto p = entry.link->partition.value;
  if (p < 0 || p >= partition_count)
    return make_break(entry.seq, break_kind::altered,
                      "entry " + seq + " names partition "
                        + std::to_string(p) + ", which does not exist");
  auto i = static_cast<size_t>(p);
  auto& chain = partitions_[i];
  if (!chain)
    chain.emplace(entry.link->partition, prefix_end_);
  return chain->feed(entry);
}

int64_t chains_verifier::last_seq(partition_id p) const {
  const auto& chain = partitions_.at(static_cast<size_t>(p.value));
  if (chain)
    return chain->last_seq();
  return prefix_.last_seq();
}

chain_heads chains_verifier::heads() const {
  auto h = chain_heads::after_prefix(prefix_closed_ ? prefix_end_
                                                    : prefix_.last());
  for (size_t i = 0; i < partitions_.size(); ++i)
    if (partitions_[i])
      h.partitions[i] = partitions_[i]->last();
  return h;
}

} // namespace hitl
