#include "http/scan_gate.hpp"

#include <algorithm>

namespace hitl {

namespace {

// Results kept at once: summaries differ by their time range, and a client
// that varies it must not make this grow.
constexpr size_t max_results = 64;

} // namespace

struct scan_gate::shared_state {
  struct result {
    std::shared_ptr<const std::string> text;
    clock::time_point at;
  };
  size_t max_running;
  clock::duration reuse;
  mutable std::mutex mtx;
  size_t running = 0;
  std::map<std::string, result> results;

  bool fresh(const result& r, clock::time_point now) const {
    return now >= r.at && now - r.at < reuse;
  }
};

scan_gate::scan_gate(size_t max_running, clock::duration reuse)
  : st_(std::make_shared<shared_state>()) {
  st_->max_running = max_running;
  st_->reuse = reuse;
}

scan_gate::admission scan_gate::admit(const std::string& query,
                                      clock::time_point now) {
  std::lock_guard<std::mutex> guard{st_->mtx};
  if (auto it = st_->results.find(query);
      it != st_->results.end() && st_->fresh(it->second, now))
    return {it->second.text, nullptr};
  if (st_->running >= st_->max_running)
    return {};
  ++st_->running;
  return {nullptr, std::make_shared<permit>(st_, query)};
}

std::chrono::seconds scan_gate::retry_after() const {
  auto secs = std::chrono::ceil<std::chrono::seconds>(st_->reuse);
  return std::max(secs, std::chrono::seconds(1));
}

size_t scan_gate::running() const {
  std::lock_guard<std::mutex> guard{st_->mtx};
  return st_->running;
}

scan_gate::permit::permit(std::shared_ptr<shared_state> st, std::string query)
  : st_(std::move(st)), query_(std::move(query)) {
  // Nothing.
}

scan_gate::permit::~permit() {
  std::lock_guard<std::mutex> guard{st_->mtx};
  --st_->running;
}

void scan_gate::permit::keep(std::shared_ptr<const std::string> result,
                             clock::time_point at) {
  std::lock_guard<std::mutex> guard{st_->mtx};
  if (st_->reuse <= clock::duration::zero())
    return;
  auto& results = st_->results;
  if (results.size() >= max_results && results.count(query_) == 0) {
    for (auto it = results.begin(); it != results.end();)
      it = st_->fresh(it->second, at) ? std::next(it) : results.erase(it);
    if (results.size() >= max_results)
      results.erase(std::min_element(results.begin(), results.end(),
                                     [](const auto& a, const auto& b) {
                                       return a.second.at < b.second.at;
                                     }));
  }
  auto& slot = results[query_];
  if (!slot.text || slot.at <= at) // two scans of one query: the later wins
    slot = {std::move(result), at};
}

} // namespace hitl
