#pragma once

// Include before any RESTinio connection or acceptor is instantiated (only
// http/server.cpp does).
//
// RESTinio 0.6.16 keeps its connection count inside the acceptor, and every
// connection holds a raw pointer to it that it uses once more, in its
// destructor. When the io_context is destroyed with connections still open
// (SIGTERM with a keep-alive client connected), asio destroys the pending
// operations in no set order, and if the accept operation held the
// acceptor's last reference, the connections that go after it write to freed
// memory (ASan: heap-use-after-free in decrement_parallel_connections). The
// library chooses its limiter by the traits' strand type, so a strand type of
// our own selects this limiter: the same counting and the same "stop
// accepting at the limit" behaviour, with the count in a state that every
// connection co-owns and that forgets the acceptor when the acceptor goes.

// traits.hpp first: connection_count_limiter.hpp does not stand alone.
#include <restinio/traits.hpp>
#include <restinio/connection_count_limiter.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace hitl::transport {

/// RESTinio's default strand under a name of our own; see above.
struct connection_strand : restinio::default_strand_t {
  using restinio::default_strand_t::default_strand_t;
  connection_strand(const restinio::default_strand_t& s)
    : restinio::default_strand_t(s) {
  }
};

/// The connection count; shared by the acceptor and every connection.
class connection_count {
public:
  using acceptor_callback =
    restinio::connection_count_limits::impl::acceptor_callback_iface_t;

  connection_count(acceptor_callback* acceptor, size_t max_connections,
                   size_t max_pending)
    : acceptor_(acceptor), max_(max_connections) {
    pending_.reserve(max_pending);
  }

  void acceptor_gone() noexcept {
    std::lock_guard guard{lock_};
    acceptor_ = nullptr;
  }

  void connection_opened() noexcept {
    std::lock_guard guard{lock_};
    --active_accepts_;
    ++connections_;
  }

  void connection_closed() noexcept {
    // Under the lock, so that the acceptor cannot go while it is told.
    std::lock_guard guard{lock_};
    --connections_;
    if (acceptor_ && has_free_slot() && !pending_.empty()) {
      auto index = pending_.back();
      pending_.pop_back();
      acceptor_->schedule_next_accept_attempt(index);
    }
  }

  void accept_next(size_t index) noexcept {
    acceptor_callback* accept_now = nullptr;
    {
      std::lock_guard guard{lock_};
      if (has_free_slot()) {
        ++active_accepts_;
        accept_now = acceptor_;
      } else {
        // Cannot allocate: reserved for every accept slot in the constructor.
        pending_.push_back(index);
      }
    }
    // Only the acceptor calls this, so it is alive.
    if (accept_now)
      accept_now->call_accept_now(index);
  }

private:
  bool has_free_slot() const noexcept {
    return active_accepts_ + connections_ < max_;
  }

  std::mutex lock_;
  acceptor_callback* acceptor_;
  size_t max_;
  size_t active_accepts_ = 0;
  size_t connections_ = 0;
  std::vector<size_t> pending_;
};

} // namespace hitl::transport

namespace restinio::connection_count_limits {

/// The acceptor's member: the interface RESTinio's acceptor calls.
template <>
class connection_count_limiter_t<hitl::transport::connection_strand> {
public:
  connection_count_limiter_t(
    not_null_pointer_t<impl::acceptor_callback_iface_t> acceptor,
    max_parallel_connections_t max_connections,
    max_active_accepts_t max_pending)
    : count_(std::make_shared<hitl::transport::connection_count>(
      acceptor, max_connections.value(), max_pending.value())) {
  }
  connection_count_limiter_t(const connection_count_limiter_t&) = delete;
  connection_count_limiter_t& operator=(const connection_count_limiter_t&)
    = delete;
  ~connection_count_limiter_t() {
    count_->acceptor_gone();
  }

  void accept_next(std::size_t index) noexcept {
    count_->accept_next(index);
  }

  const std::shared_ptr<hitl::transport::connection_count>& count() const {
    return count_;
  }

private:
  std::shared_ptr<hitl::transport::connection_count> count_;
};

/// What each connection holds: a share of the count, not a pointer into the
/// acceptor.
template <>
class connection_lifetime_monitor_t<
  connection_count_limiter_t<hitl::transport::connection_strand>> {
public:
  using limiter = connection_count_limiter_t<hitl::transport::connection_strand>;

  explicit connection_lifetime_monitor_t(not_null_pointer_t<limiter> l) noexcept
    : count_(l->count()) {
    count_->connection_opened();
  }
  connection_lifetime_monitor_t(connection_lifetime_monitor_t&&) noexcept
    = default;
  connection_lifetime_monitor_t&
  operator=(connection_lifetime_monitor_t&& other) noexcept {
    connection_lifetime_monitor_t gone{std::move(*this)};
    count_ = std::move(other.count_);
    return *this;
  }
  connection_lifetime_monitor_t(const connection_lifetime_monitor_t&) = delete;
  connection_lifetime_monitor_t&
  operator=(const connection_lifetime_monitor_t&) = delete;
  ~connection_lifetime_monitor_t() {
    if (count_)
      count_->connection_closed();
  }

private:
  std::shared_ptr<hitl::transport::connection_count> count_;
};

} // namespace restinio::connection_count_limits
