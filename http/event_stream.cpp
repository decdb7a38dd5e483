#include "http/event_stream.hpp"

#include <restinio/all.hpp>
#include <restinio/websocket/websocket.hpp>
#include <spdlog/spdlog.h>

#include <vector>

namespace hitl {

namespace rws = restinio::websocket::basic;

void event_stream::add(uint64_t id, ws_ptr ws) {
  std::lock_guard<std::mutex> guard{mtx_};
  clients_[id] = client{std::move(ws), std::make_shared<std::atomic<int>>(0),
                        clock::now()};
}

void event_stream::remove(uint64_t id) {
  ws_ptr ws;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto it = clients_.find(id);
    if (it == clients_.end())
      return;
    ws = std::move(it->second.ws);
    clients_.erase(it);
  }
  if (ws)
    ws->kill();
}

void event_stream::touch(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = clients_.find(id);
  if (it != clients_.end())
    it->second.last_seen = clock::now();
}

// Called with mtx_ held. Writing only queues: RESTinio's connection does the
// I/O on its own strand and calls back when the frame is out.
void event_stream::send(uint64_t, client& c, int opcode,
                        const std::string& payload) {
  c.queued->fetch_add(1);
  auto queued = c.queued;
  c.ws->send_message(rws::final_frame, static_cast<rws::opcode_t>(opcode),
                     restinio::writable_item_t{payload},
                     [queued](const restinio::asio_ns::error_code&) {
                       queued->fetch_sub(1);
                     });
}

void event_stream::publish(const std::string& text) {
  std::vector<ws_ptr> slow;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = clients_.begin(); it != clients_.end();) {
      auto& c = it->second;
      bool ok = c.queued->load() < max_queued_;
      if (ok) {
        try {
          send(it->first, c, static_cast<int>(rws::opcode_t::text_frame), text);
        } catch (const std::exception&) {
          ok = false;
        }
      }
      if (ok) {
        ++it;
      } else {
        slow.push_back(std::move(c.ws));
        it = clients_.erase(it);
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
  std::vector<ws_ptr> dead;
  auto now = clock::now();
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto it = clients_.begin(); it != clients_.end();) {
      auto& c = it->second;
      bool alive = now - c.last_seen <= max_silence;
      if (alive) {
        try {
          send(it->first, c, static_cast<int>(rws::opcode_t::ping_frame), "");
        } catch (const std::exception&) {
          alive = false;
        }
      }
      if (alive) {
        ++it;
      } else {
        dead.push_back(std::move(c.ws));
        it = clients_.erase(it);
      }
    }
  }
  for (auto& ws : dead)
    ws->kill();
}

void event_stream::close_all() {
  std::unordered_map<uint64_t, client> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    all.swap(clients_);
  }
  for (auto& [id, c] : all)
    c.ws->shutdown();
}

size_t event_stream::clients() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return clients_.size();
}

} // namespace hitl
