#pragma once

#include <chrono>

namespace hitl {

/// How long an actor waits for the auditor's commit of a human action or a
/// creation, and for a read: past these, the request is answered 503.
constexpr auto commit_timeout = std::chrono::seconds(10);
constexpr auto read_timeout = std::chrono::seconds(5);
/// Loading the open decisions of the partitions a node took: some 10 s for
/// a million (bench/RESULTS.md, recovery).
constexpr auto load_timeout = std::chrono::seconds(120);

} // namespace hitl
