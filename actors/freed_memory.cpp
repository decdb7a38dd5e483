#include "actors/freed_memory.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

// jemalloc's control interface, when the binary links jemalloc (`hitl` does,
// the test binaries do not): weak, so it is null without it.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp,
                       void* newp, size_t newlen) __attribute__((weak));

namespace hitl {

void return_freed_memory() {
  if (mallctl == nullptr)
    return;
  auto started = std::chrono::steady_clock::now();
  // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty pages.
  if (auto err = mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0))
    spdlog::warn("jemalloc purge failed: error {}", err);
  else
    spdlog::info("returned freed memory to the system in {:.3f} s",
                 std::chrono::duration<double>(
                   std::chrono::steady_clock::now() - started)
                   .count());
}

} // namespace hitl
