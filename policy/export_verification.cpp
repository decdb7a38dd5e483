#include "policy/export_verification.hpp"

#include "policy/audit_chain.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/checkpoint_signature.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <vector>

namespace hitl {

namespace {

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

// The chains of an export: the common prefix, then partition p at 1 + p.
constexpr size_t prefix_chain = 0;
constexpr size_t chain_count = 1 + partition_count;

size_t chain_of(const audit_entry& e) {
  return e.link ? 1 + static_cast<size_t>(e.link->partition.value)
                : prefix_chain;
}

int64_t place_of(const audit_entry& e) {
  return e.link ? e.link->pseq : e.seq;
}

std::string entry_name(const audit_entry& e) {
  if (!e.link)
    return "entry seq " + std::to_string(e.seq);
  return "partition " + std::to_string(e.link->partition.value) + " entry "
         + std::to_string(e.link->pseq) + " (seq " + std::to_string(e.seq)
         + ")";
}

std::string place_name(size_t chain, int64_t place) {
  if (chain == prefix_chain)
    return "seq " + std::to_string(place);
  return "partition " + std::to_string(chain - 1) + " entry "
         + std::to_string(place);
}

// One head that a checkpoint names: the entry at (chain, place) has `hash`.
struct expectation {
  size_t line = 0;
  std::string hash;
  /// A checkpoint of the single chain: its seq and count.
  bool single = false;
  int64_t count = 0;
  bool matched = false;
};

// The last entry of a chain read so far.
struct chain_end {
  int64_t first_place = 0;
  int64_t place = 0;
  std::string hash;
  size_t line = 0;
};

} // namespace

export_report verify_export(std::istream& first_pass,
                            std::istream& second_pass, const verify_key& key) {
  export_report report;
  fault_keeper faults;
  // Pass 1: the checkpoints, their signatures checked, as the heads they
  // name.
  std::map<std::pair<size_t, int64_t>, std::vector<expectation>> expected;
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
    const auto& c = *p.checkpoint;
    if (auto why = checkpoint_fault(c, key)) {
      faults.add(n, "checkpoint seq " + std::to_string(c.seq) + ": " + *why);
      continue;
    }
    if (!c.heads) {
      expected[{prefix_chain, c.seq}].push_back({n, c.hash, true, c.count});
      continue;
    }
    if (c.heads->prefix.seq > 0)
      expected[{prefix_chain, c.heads->prefix.seq}].push_back(
        {n, c.heads->prefix.hash});
    for (size_t i = 0; i < c.heads->partitions.size(); ++i)
      if (c.heads->partitions[i].seq > 0)
        expected[{1 + i, c.heads->partitions[i].seq}].push_back(
          {n, c.heads->partitions[i].hash});
  }
  // Pass 2: the entries, in file order (seq order), each in its chain.
  n = 0;
  std::array<std::optional<chain_end>, chain_count> chains;
  bool from_genesis = false;
  bool first = true;
  bool prefix_closed = false;
  int64_t last_seq = 0;
  size_t last_line = 0;
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
    auto name = entry_name(e);
    auto k = chain_of(e);
    auto place = place_of(e);
    if (first) {
      // An export from the start has every chain from its first entry.
      from_genesis = e.seq == 1;
      first = false;
    } else if (e.seq <= last_seq) {
      faults.add(n, name + " follows seq " + std::to_string(last_seq)
                      + " (line " + std::to_string(last_line)
                      + "): entries are out of order");
      break;
    }
    if (k == prefix_chain && prefix_closed) {
      faults.add(n, name + " has no partition, but entries of partitions "
                           "came before it");
      break;
    }
    if (k != prefix_chain && !prefix_closed) {
      prefix_closed = true;
      // Every partition's chain starts where the prefix ends.
      if (from_genesis)
        for (size_t c = 1; c < chain_count; ++c)
          chains[c] = chain_end{1, 0,
                                chains[prefix_chain]
                                  ? chains[prefix_chain]->hash
                                  : std::string{genesis_prev_hash},
                                0};
    }
    auto& end = chains[k];
    if (!end && k == prefix_chain && from_genesis)
      end = chain_end{1, 0, std::string{genesis_prev_hash}, 0};
    if (end) {
      auto before = end->line == 0 ? std::string{"the start of its chain"}
                                   : "the entry of line "
                                       + std::to_string(end->line);
      if (place != end->place + 1) {
        faults.add(n, name + " follows " + place_name(k, end->place)
                        + ": entries are missing or out of order");
        break;
      }
      if (e.prev_hash != end->hash) {
        faults.add(n, name + ": prev_hash does not link to the hash of "
                        + before);
        break;
      }
    } else {
      end = chain_end{place, place - 1, e.prev_hash, 0}; // the anchor
    }
    auto computed = compute_hash(e.prev_hash, canonical_json(e));
    if (computed != e.hash) {
      faults.add(n, name + ": hash does not match its content (computed "
                      + short_hash(computed) + ", stated "
                      + short_hash(e.hash) + ")");
      break;
    }
    auto found = expected.find({k, place});
    if (found != expected.end())
      for (auto& x : found->second) {
        x.matched = true;
        if (x.hash != e.hash)
          faults.add(x.line, "checkpoint: its head at " + place_name(k, place)
                               + ", " + short_hash(x.hash)
                               + ", is not the hash of the entry on line "
                               + std::to_string(n));
        else if (x.single && from_genesis && x.count != report.entries)
          faults.add(x.line, "checkpoint seq " + std::to_string(place)
                               + ": count " + std::to_string(x.count)
                               + ", but the export has "
                               + std::to_string(report.entries)
                               + " entries up to it");
      }
    end->place = place;
    end->hash = e.hash;
    end->line = n;
    last_seq = e.seq;
    last_line = n;
  }
  // A head that the export should hold but does not: any of the single
  // chain; of a partition, one at or after where its chain starts in the
  // export (or anywhere, in an export from the start), since the export
  // holds every entry up to the checkpoint's seq.
  for (const auto& [at, list] : expected) {
    const auto& [k, place] = at;
    for (const auto& x : list) {
      if (x.matched || faults.first())
        continue;
      const auto& end = chains[k];
      bool owed = x.single || from_genesis
                  || (end && end->first_place <= place);
      if (owed)
        faults.add(x.line, "checkpoint: no exported entry is "
                             + place_name(k, place));
    }
  }
  report.first_fault = faults.first();
  return report;
}

} // namespace hitl
