#include "http/auth_failure_limiter.hpp"

namespace hitl {

auth_failure_limiter::auth_failure_limiter(size_t max_failures,
                                           clock::duration window,
                                           size_t max_addresses)
  : max_failures_(max_failures), window_(window),
    max_addresses_(max_addresses) {
  // Nothing.
}

auth_failure_limiter::clock::duration
auth_failure_limiter::blocked_for(const std::string& address,
                                  clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  const entry* e = nullptr;
  if (auto it = entries_.find(address); it != entries_.end())
    e = &it->second;
  else if (entries_.size() >= max_addresses_)
    e = &overflow_; // where this address's failures would be counted
  if (e == nullptr || !current(*e, now) || e->failures < max_failures_)
    return clock::duration::zero();
  return e->since + window_ - now;
}

void auth_failure_limiter::failed(const std::string& address,
                                  clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(address);
  if (it == entries_.end() && entries_.size() >= max_addresses_) {
    drop_expired(now);
    it = entries_.find(address);
  }
  entry* e;
  if (it != entries_.end())
    e = &it->second;
  else if (entries_.size() < max_addresses_)
    e = &entries_[address];
  else
    e = &overflow_;
  if (!current(*e, now))
    *e = entry{now, 0};
  ++e->failures;
}

size_t auth_failure_limiter::tracked() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

// A full table is swept at most once per quarter window: under a flood from
// many addresses, each failure must not cost a walk over all of them.
void auth_failure_limiter::drop_expired(clock::time_point now) {
  if (last_sweep_ != clock::time_point{} && now - last_sweep_ < window_ / 4)
    return;
  last_sweep_ = now;
  for (auto it = entries_.begin(); it != entries_.end();)
    it = current(it->second, now) ? std::next(it) : entries_.erase(it);
}

} // namespace hitl
