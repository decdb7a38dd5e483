#include "http/token_cache.hpp"

namespace hitl {

token_cache::lookup token_cache::find(const std::string& token_hash,
                                      token_info& out) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(token_hash);
  if (it == entries_.end())
    return lookup::unknown;
  if (clock::now() >= it->second.expires) {
    entries_.erase(it);
    return lookup::unknown;
  }
  auto& info = it->second.info;
  if (!info)
    return lookup::invalid;
  if (info->expires_at && expired(*info, now())) {
    info.reset(); // no reload brings it back: the database agrees
    return lookup::invalid;
  }
  used_.insert(info->id);
  out = *info;
  return lookup::valid;
}

void token_cache::forget_all_but(
  const std::unordered_set<std::string>& active) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.info && active.count(it->first) == 0 ? entries_.erase(it)
                                                         : std::next(it);
}

std::vector<int64_t> token_cache::take_used(clock::time_point at) {
  constexpr auto resolution = std::chrono::minutes(1);
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto it = handed_out_.begin(); it != handed_out_.end();)
    it = at - it->second >= resolution ? handed_out_.erase(it) : std::next(it);
  std::vector<int64_t> out;
  for (auto id : used_)
    if (handed_out_.emplace(id, at).second)
      out.push_back(id);
  used_.clear();
  return out;
}

void token_cache::restore_used(const std::vector<int64_t>& ids) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto id : ids) {
    handed_out_.erase(id);
    used_.insert(id);
  }
}

void token_cache::store(const std::string& token_hash,
                        const std::optional<token_info>& info) {
  std::lock_guard<std::mutex> guard{mtx_};
  // Bounded: a flood of random tokens must not grow memory without limit.
  if (entries_.size() > 100000) {
    auto now = clock::now();
    for (auto it = entries_.begin(); it != entries_.end();)
      it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
    if (entries_.size() > 100000)
      entries_.clear();
  }
  entries_[token_hash] =
    entry{info, clock::now() + (info ? ttl_ : negative_ttl_)};
}

} // namespace hitl
