#pragma once

// One client of the live event stream, as the stream sees it: somewhere to
// send frames, and signs of whether it is still there. Every member may be
// called from any thread. Kept free of asio so that the stream is too.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace hitl {

class ws_client {
public:
  using clock = std::chrono::steady_clock;

  virtual ~ws_client() = default;

  /// Queues a text frame; the payload is shared, not copied, per client.
  virtual void send_text(std::shared_ptr<const std::string> text) = 0;
  virtual void send_ping() = 0;
  /// Sends a close frame after what is queued, then ends the connection
  /// (after the client's close, or a few seconds).
  virtual void close(uint16_t code, std::string reason) = 0;
  /// Ends the connection now, dropping what is queued.
  virtual void kill() = 0;

  /// Frames queued and not yet written.
  virtual size_t queued() const = 0;
  /// False when the client was silent for longer than `max_silence`, or a
  /// write to it has not finished for that long (it stopped reading).
  virtual bool responsive(clock::time_point now,
                          clock::duration max_silence) const = 0;
};

using ws_client_ptr = std::shared_ptr<ws_client>;

} // namespace hitl
