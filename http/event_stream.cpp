#include "http/event_stream.hpp"

#include "http/ws_framing.hpp"

#include <spdlog/spdlog.h>

#include <vector>

namespace hitl {

event_stream::admission event_stream::reserve(const std::string& token_hash,
                                              size_t max_total,
                                              size_t max_per_token) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (counted_ >= max_total)
    return admission::too_many;
  auto& mine = per_token_[token_hash];
  if (mine >= max_per_token) {
    if (mine == 0)
      per_token_.erase(token_hash);
    return admission::too_many_for_token;
  }
  ++mine;
  ++counted_;
  return admission::admitted;
}

void event_stream::release(const std::string& token_hash) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = per_token_.find(token_hash);
  if (it == per_token_.end())
    return;
  --counted_;
  if (--it->second == 0)
    per_token_.erase(it);
}

void event_stream::count_into(std::shared_ptr<feed_audience> audience) {
  std::lock_guard<std::mutex> guard{mtx_};
  audience_ = std::move(audience);
  tell_audience();
}

void event_stream::tell_audience() {
  if (audience_)
    audience_->set(clients_.size());
}

void event_stream::add(uint64_t id, ws_client_ptr ws, std::string token_hash) {
  std::lock_guard<std::mutex> guard{mtx_};
  clients_[id] = client{std::move(ws), std::move(token_hash), clock::now()};
  tell_audience();
}

ws_client_ptr
event_stream::forget(std::unordered_map<uint64_t, client>::iterator it) {
  auto ws = std::move(it->second.ws);
  auto counted = per_token_.find(it->second.token_hash);
  if (counted != per_token_.end()) {
    --counted_;
    if (--counted->second == 0)
      per_token_.erase(counted);
  }
  clients_.erase(it);
  tell_audience();
  return ws;
}

void event_stream::remove(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto it = clients_.find(id); it != clients_.end())
    forget(it);
}

void event_stream::publish(const std::string& text) {
  // One copy of the payload for every client.
  auto shared = std::make_shared<const std::string>(text);
  std::vector<ws_client_ptr> slow;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = clients_.begin(); it != clients_.end();) {
      if (it->second.ws->queued() < max_queued_) {
        it->second.ws->send_text(shared);
        ++it;
      } else {
        auto next = std::next(it);
        slow.push_back(forget(it));
        it = next;
        ++dropped_;
      }
    }
  }
  for (auto& ws : slow) {
    spdlog::warn("event stream: dropped a client that fell behind");
    ws->kill();
  }
}

void event_stream::ping_and_reap(clock::duration max_silence) {
  std::vector<ws_client_ptr> dead;
  auto now = clock::now();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = clients_.begin(); it != clients_.end();) {
      if (it->second.ws->responsive(now, max_silence)) {
        it->second.ws->send_ping();
        ++it;
      } else {
        auto next = std::next(it);
        dead.push_back(forget(it));
        it = next;
      }
    }
  }
  for (auto& ws : dead)
    ws->kill();
}

size_t
event_stream::close_inactive(const std::unordered_set<std::string>& active,
                             clock::time_point listed_at) {
  std::vector<ws_client_ptr> revoked;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = clients_.begin(); it != clients_.end();) {
      const auto& c = it->second;
      if (c.added < listed_at && active.count(c.token_hash) == 0) {
        auto next = std::next(it);
        revoked.push_back(forget(it));
        it = next;
      } else {
        ++it;
      }
    }
  }
  for (auto& ws : revoked)
    ws->close(ws::close_code::token_invalid, "token revoked or expired");
  if (!revoked.empty())
    spdlog::info("event stream: closed {} clients of revoked or expired "
                 "tokens",
                 revoked.size());
  return revoked.size();
}

void event_stream::close_all() {
  std::unordered_map<uint64_t, client> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    all.swap(clients_);
    per_token_.clear();
    counted_ = 0;
    tell_audience();
  }
  for (auto& [id, c] : all)
    c.ws->close(ws::close_code::going_away, "server stopping");
}

size_t event_stream::clients() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return clients_.size();
}

} // namespace hitl
