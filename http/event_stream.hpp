#pragma once

// The clients of GET /hitl/ws and what they are sent. Fed from an actor
// after each commit; thread-safe. A client that falls behind (too many
// frames not yet written) is dropped rather than allowed to hold memory or
// stall anyone, clients that stop answering pings are closed, and so are
// those whose token is no longer active. Clients are counted in total and
// per token (SPEC §10), each by its token's hash, never the token.

#include "actors/feed_audience.hpp"
#include "http/ws_client.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace hitl {

class event_stream {
public:
  using clock = std::chrono::steady_clock;

  explicit event_stream(size_t max_queued = 256) : max_queued_(max_queued) {
  }

  enum class admission { admitted, too_many, too_many_for_token };

  /// Counts one more client of `token_hash` if both bounds allow it; an
  /// admitted client is then `add`ed, or `release`d if its upgrade fails.
  admission reserve(const std::string& token_hash, size_t max_total,
                    size_t max_per_token);
  void release(const std::string& token_hash);

  /// A new id for a client.
  uint64_t next_id() {
    return next_id_++;
  }
  /// From now on, tells `audience` how many clients there are.
  void count_into(std::shared_ptr<feed_audience> audience);
  /// Registers a reserved client.
  void add(uint64_t id, ws_client_ptr client, std::string token_hash);
  /// The connection ended: forgets the client (if still known).
  void remove(uint64_t id);

  /// Sends a text frame to every client.
  void publish(const std::string& text);

  /// Pings every client; closes those silent for longer than `max_silence`
  /// or whose writes have stalled that long.
  void ping_and_reap(clock::duration max_silence);

  /// Closes (4401) the clients whose token hash is not in `active`, a list
  /// of every active token read at `listed_at`: clients that connected
  /// later may hold a token created since, and are left alone.
  size_t close_inactive(const std::unordered_set<std::string>& active,
                        clock::time_point listed_at);

  /// Closes every client (1001, going away).
  void close_all();
  size_t clients() const;
  /// Clients dropped for falling behind, since start.
  uint64_t dropped() const {
    return dropped_;
  }

private:
  struct client {
    ws_client_ptr ws;
    std::string token_hash;
    clock::time_point added;
  };
  /// Forgets the client at `it` and its count; with mtx_ held.
  ws_client_ptr forget(std::unordered_map<uint64_t, client>::iterator it);

  /// Tells the audience the count; with mtx_ held.
  void tell_audience();

  size_t max_queued_;
  std::shared_ptr<feed_audience> audience_;
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, client> clients_;
  /// Reserved or registered clients, in total and per token hash.
  size_t counted_ = 0;
  std::unordered_map<std::string, size_t> per_token_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> dropped_{0};
};

} // namespace hitl
