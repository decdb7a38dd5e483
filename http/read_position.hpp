#pragma once

// Read-your-writes on any node (SPEC §8, "Reads across nodes"): a write
// answers X-HITL-Position, the place of its last audit entry in its
// partition's chain; a read that sends it back as X-HITL-Min-Position is
// not answered from this node's caches until this node's cluster feed has
// passed that place (it reads the database instead, where the write is).

#include "http/exchange.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hitl {

inline constexpr const char* position_header = "X-HITL-Position";
inline constexpr const char* min_position_header = "X-HITL-Min-Position";

/// X-HITL-Position's value for a write of `patch_id` committed at `pseq`;
/// empty when the commit did not say (an idempotent repeat of a creation).
std::string write_position(const std::string& patch_id, int64_t pseq);

/// Whether this read may be answered from a cache: yes without
/// X-HITL-Min-Position, or once the feed has passed it. nullopt: the header
/// is malformed, and the request was answered 400.
std::optional<bool> may_use_cache(const exchange_ptr& ex);

/// Answers a write: `body` with X-HITL-Position when `position` is known.
void write_reply(const exchange_ptr& ex, int status, std::string body,
                 const std::string& position);

} // namespace hitl
