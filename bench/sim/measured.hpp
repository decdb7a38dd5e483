#pragma once

// The latencies and rates the simulation takes from this machine's
// measurements (bench/RESULTS.md) and the timings the service is built
// with (actors/membership.hpp, shared/CLUSTER.md).

#include <cstdint>

namespace hitl::sim {

/// Microseconds: the simulation's one unit of time.
using micros = std::int64_t;

inline constexpr micros ms = 1000;
inline constexpr micros sec = 1000 * ms;

// -- the service's own timings (membership_options) --------------------------
inline constexpr micros lease_length = 6 * sec;
inline constexpr micros renew_every = 1500 * ms;
inline constexpr int max_release = 8;

// -- measured here (bench/RESULTS.md) -----------------------------------------
/// Recovery of 1,000,000 open decisions: "loaded ... in 11.341 s".
inline constexpr double reload_per_second = 1'000'000 / 11.341;
/// Durable group commit, pgbench at 64 clients: p50 5.77 ms, p99 19.64 ms;
/// a log-normal through both (sigma = ln(19.64 / 5.77) / 2.326).
inline constexpr double commit_p50_ms = 5.77;
inline constexpr double commit_sigma = 0.527;
/// A membership scan's transaction: lock, renew, peers, owners, acquire and
/// release (each under 1 ms mean in the statement table) plus its durable
/// commit: p50 taken as the commit's, same spread.
inline constexpr double scan_p50_ms = 7.0;
inline constexpr double scan_sigma = 0.527;
/// One way between a node and PostgreSQL on a LAN (loopback here measures
/// less; a cluster of machines pays this).
inline constexpr micros network_one_way = 250;

} // namespace hitl::sim
