#pragma once

// Long-polls in flight per token (SPEC §10): each holds a connection and a
// waiter in the supervisor for up to a minute, so one token may hold at
// most `per_token` of them; beyond that the answer is 429.
//
// Pure and thread-safe. A token's entry exists only while it has polls in
// flight, so memory follows the open connections.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hitl {

class long_poll_quota {
  struct shared_state;

public:
  explicit long_poll_quota(size_t per_token);

  /// One long-poll's place; destroying it gives the place back, whether the
  /// poll answered, failed or timed out: hold it in the continuation.
  class permit {
  public:
    permit(std::shared_ptr<shared_state> st, std::string token);
    ~permit();
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;

  private:
    std::shared_ptr<shared_state> st_;
    std::string token_;
  };

  /// A place for one more poll of `token` (any key naming it, such as its
  /// hash), or nullptr when it has `per_token` in flight already.
  std::shared_ptr<permit> try_acquire(const std::string& token);

  size_t in_flight(const std::string& token) const;

private:
  std::shared_ptr<shared_state> st_;
};

} // namespace hitl
