// hitl_sim: the cluster protocol of SPEC §8 at a scale this machine cannot
// run for real (bench/sim/README.md). Exit 0 when every invariant held,
// 3 when one was violated (named on stderr), 2 on bad options.

#include "cluster_sim.hpp"
#include "sim_config.hpp"
#include "sim_report.hpp"

#include <chrono>
#include <fstream>
#include <iostream>
#include <stdexcept>

int main(int argc, char** argv) {
  using namespace hitl::sim;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << sim_usage();
    return 0;
  }
  sim_config c;
  try {
    c = parse_sim_config(args);
  } catch (const std::invalid_argument& e) {
    std::cerr << "hitl_sim: " << e.what() << "\n" << sim_usage();
    return 2;
  }
  auto started = std::chrono::steady_clock::now();
  auto stats = run_simulation(c);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::cout << text_report(c, stats);
  // On stderr: the only line that depends on the machine.
  std::cerr << "hitl_sim: simulated in " << took.count() << " s\n";
  if (!c.json_path.empty()) {
    std::ofstream out(c.json_path);
    out << json_report(c, stats);
    if (!out) {
      std::cerr << "hitl_sim: cannot write " << c.json_path << "\n";
      return 2;
    }
  }
  if (!stats.violation.empty()) {
    std::cerr << "hitl_sim: invariant violated: " << stats.violation << "\n";
    return 3;
  }
  return 0;
}
