#pragma once

// Recently verified bearer tokens, so that most requests authenticate
// without a database round trip. Entries live a few seconds: a revoked token
// stops working within that time; an expired one at its expiry. The cache
// also notes which tokens were used, for the token refresher to record in
// last_used_at.

#include "policy/api_token.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace hitl {

class token_cache {
public:
  using clock = std::chrono::steady_clock;

  explicit token_cache(clock::duration ttl = std::chrono::seconds(3),
                       clock::duration negative_ttl = std::chrono::seconds(1))
    : ttl_(ttl), negative_ttl_(negative_ttl) {
  }

  enum class lookup { unknown, valid, invalid };

  /// What the cache knows of a token hash; `out` is set when valid, and
  /// the token counts as used. A token past its expiry is invalid.
  lookup find(const std::string& token_hash, token_info& out);

  /// Remembers the database's answer (std::nullopt: no such active token).
  void store(const std::string& token_hash,
             const std::optional<token_info>& info);

  /// Forgets every token held valid that is not in `active`, the complete
  /// list of active tokens just read: a revoked token stops working as soon
  /// as the refresher learns of it, not only when its entry runs out.
  /// (A token made after the list was read is only looked up again.)
  void forget_all_but(const std::unordered_set<std::string>& active);

  /// Ids of the tokens used since the last call, less those handed out in
  /// the last minute (last_used_at has a minute's resolution: uses within
  /// it are not recorded again).
  std::vector<int64_t> take_used(clock::time_point at = clock::now());

  /// Gives back ids that `take_used` handed out but could not be recorded.
  void restore_used(const std::vector<int64_t>& ids);

private:
  struct entry {
    std::optional<token_info> info;
    clock::time_point expires;
  };
  clock::duration ttl_;
  clock::duration negative_ttl_;
  std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
  // Bounded by the number of tokens in use.
  std::unordered_set<int64_t> used_;
  std::unordered_map<int64_t, clock::time_point> handed_out_;
};

} // namespace hitl
