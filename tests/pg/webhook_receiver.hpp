#pragma once

// A real HTTP receiver on 127.0.0.1 for webhook tests: records what arrives,
// answers with a chosen status after a chosen delay, and can go down (the
// port refuses connections) and come back on the same port.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hitl::test {

struct received_hook {
  std::map<std::string, std::string> headers; // lower-case names
  std::string body;
  std::chrono::system_clock::time_point at;
};

class webhook_receiver {
public:
  webhook_receiver();
  ~webhook_receiver();

  std::string url() const;
  void set_status(int status) {
    status_ = status;
  }
  /// Answers the next `requests` requests (all, when negative) after `d`,
  /// later ones at once.
  void set_delay(std::chrono::milliseconds d, int requests = -1) {
    delayed_left_ = requests;
    delay_ms_ = static_cast<int>(d.count());
  }
  /// Closes the listening socket: connections are refused until up().
  void down();
  void up();

  std::vector<received_hook> received() const;
  /// Waits until `pred` holds for what arrived, or the timeout.
  bool wait_for(const std::function<bool(const std::vector<received_hook>&)>& pred,
                std::chrono::milliseconds timeout) const;

private:
  void serve(int listener);

  int port_ = 0;
  std::atomic<int> status_{200};
  std::atomic<int> delay_ms_{0};
  std::atomic<int> delayed_left_{-1};
  std::atomic<bool> running_{false};
  std::thread thread_;
  mutable std::mutex mtx_;
  std::vector<received_hook> received_;
};

} // namespace hitl::test
