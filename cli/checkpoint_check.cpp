#include "cli/checkpoint_check.hpp"

#include "persistence/checkpoint_file.hpp"
#include "persistence/checkpoint_verification.hpp"
#include "persistence/signing_key_file.hpp"

#include <iostream>

namespace hitl {

namespace {

// Keeps the checkpoints that the key vouches for; prints the others.
size_t keep_signed(const std::vector<sourced_checkpoint>& in,
                   const verify_key& key,
                   std::vector<sourced_checkpoint>& out) {
  size_t refused = 0;
  for (const auto& p : in) {
    if (auto fault = checkpoint_fault(p.checkpoint, key)) {
      ++refused;
      std::cout << "checkpoint REFUSED: " << p.where << " (seq "
                << p.checkpoint.seq << "): " << *fault << "\n";
      continue;
    }
    out.push_back(p);
  }
  return refused;
}

} // namespace

checkpoint_verdict check_checkpoints(connection_pool& pool,
                                     const audit_verify_options& opts) {
  auto key = read_public_key_file(opts.public_key_file);
  std::vector<sourced_checkpoint> trusted;
  size_t refused = 0;
  size_t from_file = 0;
  if (!opts.checkpoints_file.empty()) {
    auto lines = read_lines(opts.checkpoints_file);
    std::vector<sourced_checkpoint> parsed;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].empty())
        continue;
      auto where = opts.checkpoints_file + " line " + std::to_string(i + 1);
      auto p = parse_checkpoint_line(lines[i]);
      if (!p.checkpoint) {
        ++refused;
        std::cout << "checkpoint REFUSED: " << where << ": " << p.error
                  << "\n";
        continue;
      }
      parsed.push_back({where, std::move(*p.checkpoint)});
    }
    from_file = parsed.size();
    refused += keep_signed(parsed, key, trusted);
  }
  auto stored = read_stored_checkpoints(pool);
  refused += keep_signed(stored, key, trusted);
  auto check = check_chain_against(pool, trusted);
  std::cout << "checkpoints (key " << key.key_id() << "): " << from_file
            << " from the file, " << stored.size() << " from the database; "
            << check.confirmed << " confirmed by the chain";
  if (refused > 0)
    std::cout << ", " << refused << " refused";
  std::cout << "\n";
  if (check.first_contradiction) {
    const auto& c = *check.first_contradiction;
    std::cout << "audit chain CONTRADICTS " << check.contradicted
              << " checkpoint(s); the first: " << c.where << " (seq " << c.seq
              << "): " << c.message << "\n";
    return checkpoint_verdict::contradicted;
  }
  return refused > 0 ? checkpoint_verdict::unsigned_lines
                     : checkpoint_verdict::hold;
}

} // namespace hitl
