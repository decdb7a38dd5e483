// `hitl audit export` and `hitl audit verify --file EXPORT --public-key PEM`
// (SPEC §11): the trail leaves the database with its hashes and signed
// checkpoints, and is checked where the database cannot reach.

#include "cli/commands.hpp"

#include "persistence/audit_export.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/signing_key_file.hpp"
#include "policy/export_verification.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace hitl {

namespace {

std::optional<timestamp> time_option(const std::string& flag,
                                     const std::string& text) {
  if (text.empty())
    return std::nullopt;
  auto t = parse_iso(text);
  if (!t)
    throw std::invalid_argument(flag + ": expected an RFC 3339 time, e.g. "
                                       "2026-12-01T00:00:00Z");
  return t;
}

} // namespace

int run_audit_export(const std::string& url, const audit_export_options& o) {
  try {
    export_range range;
    range.since = time_option("--since", o.since);
    range.until = time_option("--until", o.until);
    auto format = o.format == "csv" ? export_format::csv : export_format::jsonl;
    std::ofstream file;
    if (!o.out.empty()) {
      file.open(o.out, std::ios::binary | std::ios::trunc);
      if (!file)
        throw std::runtime_error(o.out + ": cannot create");
    }
    std::ostream& out = o.out.empty() ? std::cout : file;
    pool_options opts;
    opts.url = url;
    opts.min_size = 1;
    opts.max_size = 1;
    opts.acquire_timeout = std::chrono::seconds(10);
    connection_pool pool{opts};
    auto summary = write_audit_export(
      pool, range, format, [&](std::string_view chunk) {
        out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
        if (!out)
          throw std::runtime_error("cannot write the export");
      });
    out.flush();
    if (!out)
      throw std::runtime_error("cannot write the export");
    std::cerr << "exported " << summary.entries << " entries and "
              << summary.checkpoints << " checkpoints\n";
    return EXIT_SUCCESS;
  } catch (const db_error& e) {
    std::cerr << "hitl: database " << to_string(e.code) << ": " << e.what()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "hitl: " << e.what() << "\n";
  }
  return EXIT_FAILURE;
}

int run_export_verify(const std::string& file,
                      const std::string& public_key_file) {
  try {
    auto key = read_public_key_file(public_key_file);
    std::ifstream first{file, std::ios::binary};
    std::ifstream second{file, std::ios::binary};
    if (!first || !second)
      throw std::runtime_error(file + ": cannot read");
    auto report = verify_export(first, second, key);
    if (report.first_fault) {
      std::cout << "export BROKEN at line " << report.first_fault->line
                << ": " << report.first_fault->message << "\n";
      return exit_chain_broken;
    }
    std::cout << "export intact: " << report.entries << " entries, "
              << report.checkpoints << " checkpoints signed by key "
              << key.key_id() << "\n";
    return EXIT_SUCCESS;
  } catch (const std::exception& e) {
    std::cerr << "hitl: " << e.what() << "\n";
  }
  return EXIT_FAILURE;
}

} // namespace hitl
