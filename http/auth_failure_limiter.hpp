#pragma once

// Failed authentications per client address (SPEC §10): an address that
// failed `max_failures` times within `window` is refused (429) until that
// window ends, before its token is looked up, so that random tokens cannot
// keep the database readers busy. The window starts at an address's first
// failure.
//
// Memory is bounded: at most `max_addresses` are tracked; when that many
// failed within their windows, any further address counts in one shared
// overflow entry, so a flood from many addresses is still limited as a
// whole (a valid token is let through before this is asked; see server.cpp).
//
// Pure and thread-safe; time comes from the caller.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace hitl {

class auth_failure_limiter {
public:
  using clock = std::chrono::steady_clock;

  auth_failure_limiter(size_t max_failures, clock::duration window,
                       size_t max_addresses = 16384);

  /// How long `address` must wait before it is heard again; zero when it
  /// may try now.
  clock::duration blocked_for(const std::string& address,
                              clock::time_point now);

  /// Counts one failed authentication of `address`.
  void failed(const std::string& address, clock::time_point now);

  /// Addresses tracked now (the overflow entry not counted).
  size_t tracked() const;

private:
  struct entry {
    clock::time_point since;
    size_t failures = 0;
  };

  bool current(const entry& e, clock::time_point now) const {
    return now >= e.since && now - e.since < window_;
  }
  void drop_expired(clock::time_point now);

  size_t max_failures_;
  clock::duration window_;
  size_t max_addresses_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, entry> entries_;
  entry overflow_;
  clock::time_point last_sweep_;
};

} // namespace hitl
