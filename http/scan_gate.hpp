#pragma once

// One kind of full scan (audit verify, analytics summary, audit export):
// at most `max_running` at once, and a result younger than `reuse` is
// answered again for the same query instead of scanning (SPEC §10). A scan
// holds a database connection for as long as the table takes to read; a
// client that repeats it must not be able to hold them all.
//
// Pure and thread-safe: the I/O threads admit, the bridges keep results.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace hitl {

class scan_gate {
public:
  using clock = std::chrono::steady_clock;

  scan_gate(size_t max_running, clock::duration reuse);

private:
  struct shared_state;

public:
  /// One running scan's place. Destroying it frees the place, whether the
  /// scan answered, failed or timed out: hold it in the continuation.
  class permit {
  public:
    permit(std::shared_ptr<shared_state> st, std::string query);
    ~permit();
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;

    /// Keeps the scan's result, to answer the same query again until
    /// `reuse` has passed since `at`.
    void keep(std::shared_ptr<const std::string> result, clock::time_point at);

  private:
    std::shared_ptr<shared_state> st_;
    std::string query_;
  };

  /// What to do with one request: answer `reused`, or scan under `run`;
  /// neither means every place is taken (429, retry_after()).
  struct admission {
    std::shared_ptr<const std::string> reused;
    std::shared_ptr<permit> run;
  };

  /// `query` identifies what the scan computes (its parameters).
  admission admit(const std::string& query, clock::time_point now);

  /// When a refused client should come back: the reuse time, at least 1 s
  /// (by then the running scan's result can usually be reused).
  std::chrono::seconds retry_after() const;

  /// Scans running now.
  size_t running() const;

private:
  std::shared_ptr<shared_state> st_;
};

} // namespace hitl
