#include "http/request_id.hpp"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <random>

namespace hitl {

namespace {

std::string process_prefix() {
  std::random_device rd;
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", static_cast<unsigned>(rd()));
  return buf;
}

std::atomic<uint64_t> request_counter{0};

} // namespace

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > max_request_id_length)
    return false;
  for (unsigned char c : id)
    if (c < 0x21 || c > 0x7e)
      return false;
  return true;
}

std::string generated_request_id() {
  static const std::string prefix = process_prefix();
  auto n = request_counter.fetch_add(1, std::memory_order_relaxed) + 1;
  char buf[17];
  auto len = std::snprintf(buf, sizeof(buf), "%llx",
                           static_cast<unsigned long long>(n));
  std::string out;
  out.reserve(prefix.size() + 1 + static_cast<size_t>(len));
  out += prefix;
  out += '-';
  out.append(buf, static_cast<size_t>(len));
  return out;
}

} // namespace hitl
