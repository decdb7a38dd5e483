#pragma once

#include <cstddef>

namespace hitl {

/// From this many open decisions loaded at once on, the memory their
/// loading freed is handed back to the system.
inline constexpr std::size_t freed_memory_threshold = 10000;

/// Loading open decisions takes about twice the memory that keeping them
/// takes (the query's result, the loader's index), freed once they are
/// indexed. jemalloc gives freed pages back to the system only as later
/// allocations advance its decay clock, and a node that just loaded is
/// often idle: without this its RSS stays at the loading's peak. Does
/// nothing without jemalloc (the test binaries).
void return_freed_memory();

} // namespace hitl
