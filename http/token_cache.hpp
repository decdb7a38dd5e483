#pragma once

// Recently verified bearer tokens, so that most requests authenticate
// without a database round trip. Entries live a few seconds: a revoked token
// stops working within that time.

#include "persistence/token_repository.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace hitl {

class token_cache {
public:
  using clock = std::chrono::steady_clock;

  explicit token_cache(clock::duration ttl = std::chrono::seconds(3),
                       clock::duration negative_ttl = std::chrono::seconds(1))
    : ttl_(ttl), negative_ttl_(negative_ttl) {
  }

  enum class lookup { unknown, valid, invalid };

  /// What the cache knows of a token hash; `out` is set when valid.
  lookup find(const std::string& token_hash, token_info& out);

  /// Remembers the database's answer (std::nullopt: no such active token).
  void store(const std::string& token_hash,
             const std::optional<token_info>& info);

private:
  struct entry {
    std::optional<token_info> info;
    clock::time_point expires;
  };
  clock::duration ttl_;
  clock::duration negative_ttl_;
  std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
};

} // namespace hitl
