#include "sim_config.hpp"

#include <charconv>
#include <stdexcept>

namespace hitl::sim {

namespace {

template <class T>
T number(const std::string& name, const std::string& text, T low, T high) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    throw std::invalid_argument(name + ": not a number: '" + text + "'");
  if (v < low || v > high)
    throw std::invalid_argument(name + ": " + text + " is outside ["
                                + std::to_string(low) + ", "
                                + std::to_string(high) + "]");
  return v;
}

broken_defences parse_broken(const std::string& text) {
  broken_defences b;
  std::size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(',', at);
    auto word = text.substr(at, comma == std::string::npos ? std::string::npos
                                                           : comma - at);
    if (word == "fence")
      b.fence = true;
    else if (word == "version")
      b.version = true;
    else if (word == "rearm")
      b.rearm = true;
    else
      throw std::invalid_argument("--break: unknown defence '" + word
                                  + "' (fence, version, rearm)");
    if (comma == std::string::npos)
      break;
    at = comma + 1;
  }
  return b;
}

} // namespace

std::string sim_usage() {
  return "usage: hitl_sim [--nodes N] [--decisions N] [--seconds S] [--seed N]\n"
         "  [--crashes N] [--pauses N] [--joins N] [--pause-extra-ms MS]\n"
         "  [--max-offset-ms MS] [--max-drift-ppm PPM] [--lost-budget-s S]\n"
         "  [--break fence,version,rearm] [--json FILE]\n";
}

sim_config parse_sim_config(const std::vector<std::string>& args) {
  sim_config c;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& name = args[i];
    if (i + 1 >= args.size())
      throw std::invalid_argument(name + ": needs a value (or is unknown)");
    const auto& v = args[++i];
    if (name == "--nodes")
      c.nodes = number<int>(name, v, 1, 256);
    else if (name == "--decisions")
      c.decisions = number<int>(name, v, 0, 10'000'000);
    else if (name == "--seconds")
      c.horizon = number<micros>(name, v, 300, 86'400) * sec;
    else if (name == "--seed")
      c.seed = number<std::uint64_t>(name, v, 0, UINT64_MAX);
    else if (name == "--crashes")
      c.crashes = number<int>(name, v, 0, 255);
    else if (name == "--pauses")
      c.pauses = number<int>(name, v, 0, 1000);
    else if (name == "--joins")
      c.joins = number<int>(name, v, 0, 255);
    else if (name == "--pause-extra-ms")
      c.pause_extra = number<micros>(name, v, 1, 3'600'000) * ms;
    else if (name == "--max-offset-ms")
      c.max_clock_offset = number<micros>(name, v, 0, 60'000) * ms;
    else if (name == "--max-drift-ppm")
      c.max_drift_ppm = number<double>(name, v, 0, 100'000);
    else if (name == "--lost-budget-s")
      c.lost_budget = number<micros>(name, v, 1, 3600) * sec;
    else if (name == "--break")
      c.broken = parse_broken(v);
    else if (name == "--json")
      c.json_path = v;
    else
      throw std::invalid_argument("unknown option " + name);
  }
  if (c.crashes >= c.nodes + c.joins)
    throw std::invalid_argument("--crashes must leave a node alive (at most "
                                + std::to_string(c.nodes + c.joins - 1) + ")");
  return c;
}

} // namespace hitl::sim
