#include "http/long_poll_quota.hpp"

namespace hitl {

struct long_poll_quota::shared_state {
  size_t per_token = 0;
  mutable std::mutex mtx;
  std::unordered_map<std::string, size_t> polls;
};

long_poll_quota::long_poll_quota(size_t per_token)
  : st_(std::make_shared<shared_state>()) {
  st_->per_token = per_token;
}

std::shared_ptr<long_poll_quota::permit>
long_poll_quota::try_acquire(const std::string& token) {
  {
    std::lock_guard<std::mutex> guard{st_->mtx};
    auto it = st_->polls.find(token);
    size_t n = it == st_->polls.end() ? 0 : it->second;
    if (n >= st_->per_token)
      return nullptr;
    st_->polls[token] = n + 1;
  }
  return std::make_shared<permit>(st_, token);
}

size_t long_poll_quota::in_flight(const std::string& token) const {
  std::lock_guard<std::mutex> guard{st_->mtx};
  auto it = st_->polls.find(token);
  return it == st_->polls.end() ? 0 : it->second;
}

long_poll_quota::permit::permit(std::shared_ptr<shared_state> st,
                                std::string token)
  : st_(std::move(st)), token_(std::move(token)) {
  // Nothing.
}

long_poll_quota::permit::~permit() {
  std::lock_guard<std::mutex> guard{st_->mtx};
  auto it = st_->polls.find(token_);
  if (it != st_->polls.end() && --it->second == 0)
    st_->polls.erase(it);
}

} // namespace hitl
