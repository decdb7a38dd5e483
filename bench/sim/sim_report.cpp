#include "sim_report.hpp"

#include "policy/partition.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace hitl::sim {

distribution distribution_of(std::vector<micros> v) {
  distribution d;
  d.count = v.size();
  if (v.empty())
    return d;
  std::sort(v.begin(), v.end());
  auto rank = [&](double q) {
    auto i = static_cast<std::size_t>(q * double(v.size()));
    return double(v[std::min(i, v.size() - 1)]) / ms;
  };
  d.p50 = rank(0.50);
  d.p90 = rank(0.90);
  d.p99 = rank(0.99);
  d.max = double(v.back()) / ms;
  return d;
}

namespace {

nlohmann::json to_json(const distribution& d) {
  return {{"count", d.count}, {"p50_ms", d.p50}, {"p90_ms", d.p90},
          {"p99_ms", d.p99},  {"max_ms", d.max}};
}

std::string line(const char* name, const distribution& d) {
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "%-22s n=%-8zu p50 %9.1f ms  p90 %9.1f ms  p99 %9.1f ms  "
                "max %9.1f ms\n",
                name, d.count, d.p50, d.p90, d.p99, d.max);
  return buf;
}

double fair_share(const sim_stats& s) {
  return s.live_at_end > 0 ? double(partition_count) / s.live_at_end : 0;
}

} // namespace

std::string text_report(const sim_config& c, const sim_stats& s) {
  std::ostringstream o;
  o << "hitl_sim: " << c.nodes << " nodes (+" << c.joins << " joining), "
    << c.decisions << " open decisions, " << c.horizon / sec << " s, seed "
    << c.seed << ", " << c.crashes << " crash(es), " << c.pauses
    << " pause(s)\n";
  o << line("takeover (writable)", distribution_of(s.takeover_writable));
  o << line("takeover (serving)", distribution_of(s.takeover_serving));
  o << line("escalation lateness", distribution_of(s.lateness));
  auto [lo, hi] = std::minmax_element(s.owned_at_end.begin(),
                                      s.owned_at_end.end());
  if (lo != s.owned_at_end.end())
    o << "ownership at end: " << s.live_at_end << " live nodes, min " << *lo
      << " max " << *hi << " partitions per node, fair share "
      << fair_share(s) << "\n";
  o << "membership changes (partitions moved until the next change):\n";
  for (const auto& m : s.changes)
    o << "  " << double(m.at) / sec << " s  " << m.kind << " node " << m.node
      << " (held " << m.held_before << "): moved " << m.moved << "\n";
  o << "commits " << s.commits << " in " << s.batches << " batches; fenced "
    << s.fenced_writes << " writes in " << s.fenced_batches
    << " batches; version conflicts " << s.version_conflicts
    << "; levels due by the end less the budget " << s.escalations_due
    << "; events " << s.events << "\n";
  o << (s.violation.empty() ? "invariants: all held\n"
                            : "INVARIANT VIOLATED: " + s.violation + "\n");
  return o.str();
}

std::string json_report(const sim_config& c, const sim_stats& s) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& m : s.changes)
    changes.push_back({{"kind", m.kind},
                       {"node", m.node},
                       {"at_s", double(m.at) / sec},
                       {"held_before", m.held_before},
                       {"moved", m.moved}});
  nlohmann::json owned = s.owned_at_end;
  auto [lo, hi] = std::minmax_element(s.owned_at_end.begin(),
                                      s.owned_at_end.end());
  nlohmann::json j = {
    {"config",
     {{"nodes", c.nodes},
      {"joins", c.joins},
      {"decisions", c.decisions},
      {"seconds", c.horizon / sec},
      {"seed", c.seed},
      {"crashes", c.crashes},
      {"pauses", c.pauses},
      {"max_clock_offset_ms", c.max_clock_offset / ms},
      {"max_drift_ppm", c.max_drift_ppm},
      {"broken",
       {{"fence", c.broken.fence},
        {"version", c.broken.version},
        {"rearm", c.broken.rearm}}}}},
    {"takeover_writable", to_json(distribution_of(s.takeover_writable))},
    {"takeover_serving", to_json(distribution_of(s.takeover_serving))},
    {"escalation_lateness", to_json(distribution_of(s.lateness))},
    {"ownership",
     {{"live_nodes", s.live_at_end},
      {"per_node", owned},
      {"min", lo == s.owned_at_end.end() ? 0 : *lo},
      {"max", hi == s.owned_at_end.end() ? 0 : *hi},
      {"fair_share", fair_share(s)}}},
    {"membership_changes", changes},
    {"commits", s.commits},
    {"batches", s.batches},
    {"fenced_batches", s.fenced_batches},
    {"fenced_writes", s.fenced_writes},
    {"version_conflicts", s.version_conflicts},
    {"escalations_due", s.escalations_due},
    {"events", s.events},
    {"violation", s.violation.empty() ? nlohmann::json(nullptr)
                                      : nlohmann::json(s.violation)}};
  return j.dump(2) + "\n";
}

} // namespace hitl::sim
