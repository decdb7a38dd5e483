#include "tests/pg/scratch_files.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

namespace hitl::test {

namespace {

std::mutex dir_mx;
std::filesystem::path dir; // empty until the first file

const std::filesystem::path& scratch_dir() {
  std::lock_guard<std::mutex> guard{dir_mx};
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path base = tmp && *tmp ? tmp : "/tmp";
    auto made = base / ("hitl-pg-tests-" + std::to_string(::getpid()));
    // Left by an earlier process of the same pid: its files are not ours.
    std::filesystem::remove_all(made);
    std::filesystem::create_directories(made);
    dir = made;
  }
  return dir;
}

} // namespace

std::string scratch_path(const std::string& name) {
  static std::atomic<int> n{0};
  return (scratch_dir() / (std::to_string(n++) + "-" + name)).string();
}

std::string scratch_file(const std::string& name, const std::string& content) {
  auto path = scratch_path(name);
  std::ofstream out{path};
  out << content;
  if (!out.flush())
    throw std::runtime_error("cannot write " + path);
  return path;
}

void end_scratch_files(bool passed) {
  std::lock_guard<std::mutex> guard{dir_mx};
  if (dir.empty())
    return;
  if (!passed) {
    std::fprintf(stderr, "pg tests: their files (serve logs, configs) are "
                         "kept in %s\n",
                 dir.c_str());
    return;
  }
  std::error_code ignored; // a serve still writing its log: nothing to do
  std::filesystem::remove_all(dir, ignored);
}

} // namespace hitl::test
