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
  if (!it->second.info)
    return lookup::invalid;
  out = *it->second.info;
  return lookup::valid;
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
