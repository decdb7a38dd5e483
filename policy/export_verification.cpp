#include "policy/export_verification.hpp"

#include "policy/audit_chain.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/checkpoint_signature.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <vector>

namespace hitl {

namespace {

struct located_checkpoint {
  size_t line = 0;
  audit_checkpoint checkpoint;
  bool matched = false;
};

class fault_keeper {
public:
  void add(size_t line, std::string message) {
    if (!first_ || line < first_->line)
      first_ = export_fault{line, std::move(message)};
  }
  const std::optional<export_fault>& first() const {
    return first_;
  }

private:
  std::optional<export_fault> first_;
};

std::string type_of(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {};
  auto it = j.find("type");
  return it != j.end() && it->is_string() ? it->get<std::string>() : "?";
}

std::string short_hash(const std::string& h) {
  return h.substr(0, 16) + "…";
}

} // namespace

export_report verify_export(std::istream& first_pass,
                            std::istream& second_pass, const verify_key& key) {
  export_report report;
  fault_keeper faults;
  // Pass 1: the checkpoints, by seq, their signatures checked.
  std::multimap<int64_t, located_checkpoint> by_seq;
  size_t n = 0;
  for (std::string line; std::getline(first_pass, line);) {
    ++n;
    auto type = type_of(line);
    if (type.empty()) {
      faults.add(n, "not a JSON object");
      continue;
    }
    if (type == "entry")
      continue;
    if (type != "checkpoint") {
      faults.add(n, "unknown line type \"" + type + "\"");
      continue;
    }
    ++report.checkpoints;
    auto p = parse_checkpoint_line(line);
    if (!p.checkpoint) {
      faults.add(n, "checkpoint: " + p.error);
      continue;
    }
    if (auto why = checkpoint_fault(*p.checkpoint, key)) {
      faults.add(n, "checkpoint seq " + std::to_string(p.checkpoint->seq)
                      + ": " + *why);
      continue;
    }
    auto seq = p.checkpoint->seq;
    by_seq.emplace(seq, located_checkpoint{n, std::move(*p.checkpoint)});
  }
  // Pass 2: the entries, in file order.
  n = 0;
  std::optional<audit_entry> last;
  size_t last_line = 0;
  bool from_genesis = false;
  for (std::string line; std::getline(second_pass, line);) {
    ++n;
    if (type_of(line) != "entry")
      continue;
    auto p = parse_export_entry(line);
    if (!p.entry) {
      faults.add(n, "entry: " + p.error);
      break;
    }
    auto& e = *p.entry;
    ++report.entries;
    if (!last) {
      from_genesis = e.seq == 1;
      if (from_genesis && e.prev_hash != genesis_prev_hash) {
        faults.add(n, "entry seq 1: prev_hash is not the genesis hash");
        break;
      }
    } else if (e.seq != last->seq + 1) {
      faults.add(n, "entry seq " + std::to_string(e.seq) + " follows seq "
                      + std::to_string(last->seq) + " (line "
                      + std::to_string(last_line)
                      + "): entries are missing or out of order");
      break;
    } else if (e.prev_hash != last->hash) {
      faults.add(n, "entry seq " + std::to_string(e.seq)
                      + ": prev_hash does not link to the hash of line "
                      + std::to_string(last_line));
      break;
    }
    auto computed = compute_hash(e.prev_hash, canonical_json(e));
    if (computed != e.hash) {
      faults.add(n, "entry seq " + std::to_string(e.seq)
                      + ": hash does not match its content (computed "
                      + short_hash(computed) + ", stated "
                      + short_hash(e.hash) + ")");
      break;
    }
    auto [lo, hi] = by_seq.equal_range(e.seq);
    for (auto it = lo; it != hi; ++it) {
      auto& c = it->second;
      c.matched = true;
      if (c.checkpoint.hash != e.hash)
        faults.add(c.line, "checkpoint seq " + std::to_string(e.seq)
                             + ": its hash " + short_hash(c.checkpoint.hash)
                             + " is not the hash of the entry on line "
                             + std::to_string(n));
      else if (from_genesis && c.checkpoint.count != report.entries)
        faults.add(c.line, "checkpoint seq " + std::to_string(e.seq)
                             + ": count " + std::to_string(c.checkpoint.count)
                             + ", but the export has "
                             + std::to_string(report.entries)
                             + " entries up to it");
    }
    last = std::move(e);
    last_line = n;
  }
  for (const auto& [seq, c] : by_seq)
    if (!c.matched && !faults.first())
      faults.add(c.line, "checkpoint seq " + std::to_string(seq)
                           + ": no exported entry has that seq");
  report.first_fault = faults.first();
  return report;
}

} // namespace hitl
