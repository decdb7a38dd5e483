#pragma once

// The server side of one /hitl/ws connection, on the TCP socket that
// RESTinio hands over at the upgrade (included by http/server.cpp only).
//
// Why our own instead of RESTinio's ws_connection_t: RESTinio 0.6.16 sizes
// its input buffer from the length a frame declares
// (`handle_parsed_and_valid_header`: `m_payload.resize(payload_length)`), so
// one frame declaring 2^62 bytes makes the service try to allocate that, and
// it has no message limit at all. Boost.Beast has one (`read_message_max`),
// but it runs on Boost.Asio while RESTinio here runs on standalone asio: a
// socket cannot be handed across without releasing its descriptor into a
// second event loop with threads of its own. The stream is one-way (server
// to client), so from a client we only need RFC 6455's control frames; a
// reader that counts and skips everything else (http/ws_framing.hpp) is
// small and keeps every connection in fixed memory: a 512-byte read buffer,
// at most 125 bytes of one control frame, and the frames queued for it
// (bounded by the event stream, each event's text shared by all clients).

#include "http/ws_client.hpp"
#include "http/ws_framing.hpp"

#include <restinio/asio_include.hpp>
#include <restinio/utils/base64.hpp>
#include <restinio/utils/sha1.hpp>

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// The 101 response that completes a WebSocket handshake (RFC 6455 §4.2.2);
/// `protocol` is echoed when not empty; `request_id`, as on every answer,
/// is X-Request-Id.
inline std::string ws_handshake_response(const std::string& key,
                                         const std::string& protocol,
                                         const std::string& request_id) {
  namespace sha1 = restinio::utils::sha1;
  auto digest =
    sha1::make_digest(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
  std::string out = "HTTP/1.1 101 Switching Protocols\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: ";
  out += restinio::utils::base64::encode(sha1::to_string(digest));
  out += "\r\n";
  if (!protocol.empty())
    out += "Sec-WebSocket-Protocol: " + protocol + "\r\n";
  out += "X-Request-Id: " + request_id + "\r\n";
  out += "\r\n";
  return out;
}

class ws_connection final : public ws_client,
                            public std::enable_shared_from_this<ws_connection> {
public:
  using socket_type = restinio::asio_ns::ip::tcp::socket;

  /// `keep_alive` holds what must live as long as the connection (RESTinio's
  /// connection-count ticket); `on_closed` runs once, on the connection's
  /// strand, when the socket is closed, whatever closed it.
  ws_connection(socket_type socket, std::shared_ptr<void> keep_alive,
                uint64_t max_message_bytes, std::function<void()> on_closed)
    : strand_(restinio::asio_ns::make_strand(socket.get_executor())),
      socket_(std::move(socket)),
      keep_alive_(std::move(keep_alive)),
      reader_(max_message_bytes),
      on_closed_(std::move(on_closed)),
      last_heard_(clock::now().time_since_epoch().count()) {
  }

  /// Writes the 101 response, then reads the client's frames.
  void start(std::string handshake_response) {
    ++queued_;
    post([handshake_response = std::move(handshake_response)](
           ws_connection& self) mutable {
      self.enqueue(frame{std::move(handshake_response), nullptr});
      self.read_more();
    });
  }

  void send_text(std::shared_ptr<const std::string> text) override {
    ++queued_;
    auto head = ws::frame_header(ws::opcode::text, text->size());
    post([head = std::move(head), text = std::move(text)](
           ws_connection& self) mutable {
      self.enqueue(frame{std::move(head), std::move(text)});
    });
  }

  void send_ping() override {
    ++queued_;
    post([](ws_connection& self) {
      self.enqueue(frame{ws::control_frame(ws::opcode::ping, {}), nullptr});
    });
  }

  void close(uint16_t code, std::string reason) override {
    post([code, reason = std::move(reason)](ws_connection& self) {
      self.begin_close(code, reason);
    });
  }

  void kill() override {
    post([](ws_connection& self) { self.finish(); });
  }

  size_t queued() const override {
    return queued_.load();
  }

  bool responsive(clock::time_point now,
                  clock::duration max_silence) const override {
    auto heard = clock::time_point{clock::duration{last_heard_.load()}};
    auto writing = write_since_.load();
    return now - heard <= max_silence
           && (writing == 0
               || now - clock::time_point{clock::duration{writing}}
                    <= max_silence);
  }

private:
  struct frame {
    std::string head;
    std::shared_ptr<const std::string> body;
    enum kind_t { data, pong, close } kind = data;
  };
  enum class state { open, closing, closed };

  /// How long a close may take (the client's close frame, its FIN, or our
  /// close frame reaching a client that stopped reading) before the socket
  /// is closed anyway.
  static constexpr auto close_timeout = std::chrono::seconds(5);
  /// What is read and dropped after we closed, at most.
  static constexpr size_t max_drained = size_t{1} << 20;
  /// Frames in one write.
  static constexpr size_t max_batch = 64;

  template <class F>
  void post(F f) {
    restinio::asio_ns::post(
      strand_, [self = shared_from_this(), f = std::move(f)]() mutable {
        f(*self);
      });
  }

  // -- everything below runs on strand_ ---------------------------------------

  void enqueue(frame f) {
    if (state_ != state::open) {
      --queued_;
      return;
    }
    pending_.push_back(std::move(f));
    write_more();
  }

  void write_more() {
    if (writing_now_ || pending_.empty() || state_ == state::closed)
      return;
    writing_.clear();
    buffers_.clear();
    while (!pending_.empty() && writing_.size() < max_batch) {
      auto& f = pending_.front();
      if (f.kind == frame::pong) {
        // Built now, from the latest ping: one pong answers all the pings
        // that came while it waited (RFC 6455 §5.5.3).
        f.head = ws::control_frame(ws::opcode::pong, *pong_payload_);
        pong_payload_.reset();
      }
      writing_.push_back(std::move(f));
      pending_.pop_front();
    }
    for (const auto& f : writing_) {
      buffers_.emplace_back(restinio::asio_ns::buffer(f.head));
      if (f.body)
        buffers_.emplace_back(restinio::asio_ns::buffer(*f.body));
    }
    writing_now_ = true;
    write_since_ = clock::now().time_since_epoch().count();
    restinio::asio_ns::async_write(
      socket_, buffers_,
      restinio::asio_ns::bind_executor(
        strand_, [self = shared_from_this()](
                   const restinio::asio_ns::error_code& ec, size_t) {
          self->on_written(ec);
        }));
  }

  void on_written(const restinio::asio_ns::error_code& ec) {
    writing_now_ = false;
    write_since_ = 0;
    queued_ -= writing_.size();
    bool close_sent = false;
    for (const auto& f : writing_)
      close_sent = close_sent || f.kind == frame::close;
    writing_.clear();
    if (state_ == state::closed)
      return;
    if (ec) {
      finish();
      return;
    }
    if (close_sent) {
      if (peer_closed_) {
        finish(); // the closing handshake is complete
        return;
      }
      // Wait for the client's close (or its FIN) while telling it that
      // nothing more comes; closing at once with unread bytes would send a
      // reset that can destroy our close frame before the client reads it.
      restinio::asio_ns::error_code ignored;
      socket_.shutdown(socket_type::shutdown_send, ignored);
      return;
    }
    write_more();
  }

  void read_more() {
    if (state_ == state::closed)
      return;
    socket_.async_read_some(
      restinio::asio_ns::buffer(in_),
      restinio::asio_ns::bind_executor(
        strand_, [self = shared_from_this()](
                   const restinio::asio_ns::error_code& ec, size_t n) {
          self->on_read(ec, n);
        }));
  }

  void on_read(const restinio::asio_ns::error_code& ec, size_t n) {
    if (state_ == state::closed)
      return;
    if (ec) {
      finish(); // the client went away (or closed after our close frame)
      return;
    }
    last_heard_ = clock::now().time_since_epoch().count();
    if (state_ == state::closing) {
      drained_ += n;
      if (drained_ > max_drained) {
        finish();
        return;
      }
    }
    size_t used = 0;
    while (used < n && !reader_.failed() && state_ != state::closed) {
      ws::reader_event ev;
      used += reader_.feed(in_.data() + used, n - used, ev);
      handle(ev);
    }
    read_more();
  }

  void handle(const ws::reader_event& ev) {
    switch (ev.kind) {
      case ws::reader_event::ping:
        if (state_ != state::open)
          return;
        if (!pong_payload_) {
          ++queued_;
          pending_.push_back(frame{{}, nullptr, frame::pong});
        }
        pong_payload_ = std::string{ev.payload};
        write_more();
        return;
      case ws::reader_event::close:
        peer_closed_ = true;
        if (state_ == state::open)
          begin_close(ev.code == ws::close_code::no_status ? 0 : ev.code, {});
        else if (all_written())
          finish();
        return;
      case ws::reader_event::violation:
        begin_close(ev.code, ev.code == ws::close_code::message_too_big
                               ? "message too big"
                               : "protocol error");
        return;
      default:
        return; // pongs, and messages (skipped): signs of life only
    }
  }

  bool all_written() const {
    return !writing_now_ && pending_.empty();
  }

  /// Queues a close frame (no code when `code` is 0) after what is queued;
  /// nothing is sent after it.
  void begin_close(uint16_t code, const std::string& reason) {
    if (state_ != state::open)
      return;
    state_ = state::closing;
    ++queued_;
    pending_.push_back(frame{ws::control_frame(ws::opcode::close,
                                               code == 0 ? std::string{}
                                                         : ws::close_payload(
                                                           code, reason)),
                             nullptr, frame::close});
    timer_.emplace(strand_);
    timer_->expires_after(close_timeout);
    timer_->async_wait(
      [self = shared_from_this()](const restinio::asio_ns::error_code& ec) {
        if (!ec)
          self->finish();
      });
    write_more();
  }

  void finish() {
    if (state_ == state::closed)
      return;
    state_ = state::closed;
    restinio::asio_ns::error_code ignored;
    socket_.shutdown(socket_type::shutdown_both, ignored);
    socket_.close(ignored);
    if (timer_)
      timer_->cancel();
    queued_ -= pending_.size();
    pending_.clear();
    if (auto done = std::move(on_closed_)) {
      on_closed_ = nullptr;
      done();
    }
  }

  restinio::asio_ns::strand<restinio::asio_ns::any_io_executor> strand_;
  socket_type socket_;
  std::shared_ptr<void> keep_alive_;
  ws::frame_reader reader_;
  std::array<char, 512> in_{};
  std::deque<frame> pending_;
  std::vector<frame> writing_;
  std::vector<restinio::asio_ns::const_buffer> buffers_;
  bool writing_now_ = false;
  std::optional<std::string> pong_payload_;
  state state_ = state::open;
  bool peer_closed_ = false;
  size_t drained_ = 0;
  std::optional<restinio::asio_ns::steady_timer> timer_;
  std::function<void()> on_closed_;
  std::atomic<size_t> queued_{0};
  std::atomic<clock::rep> last_heard_;
  /// When the write in flight began; 0 when none is.
  std::atomic<clock::rep> write_since_{0};
};

} // namespace hitl
