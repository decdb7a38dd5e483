#include "persistence/audit_export.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/checkpoint_repository.hpp"
#include "persistence/checkpoint_sql.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/sql_params.hpp"
#include "policy/audit_export_format.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <stdexcept>

namespace hitl {

namespace {

constexpr int export_page = 2000;

struct seq_range {
  int64_t first = 0;
  int64_t last = -1;
  bool empty() const {
    return last < first;
  }
};

seq_range bounds(pqxx::transaction_base& txn, const export_range& r) {
  sql_params p;
  if (r.since)
    p.add(to_micros(*r.since));
  else
    p.null();
  if (r.until)
    p.add(to_micros(*r.until));
  else
    p.null();
  auto row = txn.exec_prepared1(sql::audit_export_bounds.name, p.dynamic());
  if (row[0].is_null() || row[1].is_null())
    return {};
  return {row[0].as<int64_t>(), row[1].as<int64_t>()};
}

} // namespace

export_summary write_audit_export(
  connection_pool& pool, const export_range& range, export_format format,
  const std::function<void(std::string_view)>& sink) {
  export_summary out;
  bool written = false;
  pool.read([&](pqxx::transaction_base& txn) {
    // The pool runs this again when the connection broke; what went to the
    // sink cannot be taken back.
    if (written)
      throw std::runtime_error("the database connection broke during the "
                               "export: run it again");
    written = true;
    out = {};
    if (format == export_format::csv)
      sink(export_csv_header() + "\n");
    auto seqs = bounds(txn, range);
    if (seqs.empty())
      return;
    std::string chunk;
    for (int64_t after = seqs.first - 1; after < seqs.last;) {
      auto entries = read_audit_entries(txn, after, export_page);
      chunk.clear();
      for (const auto& e : entries) {
        if (e.seq > seqs.last)
          break;
        chunk += format == export_format::csv ? export_csv_row(e)
                                              : export_entry_line(e);
        chunk += '\n';
        ++out.entries;
        after = e.seq;
      }
      if (!chunk.empty())
        sink(chunk);
      if (entries.size() < static_cast<size_t>(export_page))
        break;
    }
    if (format == export_format::csv)
      return;
    std::vector<audit_checkpoint> covering;
    for (int64_t after_id = 0;;) {
      auto rows = read_checkpoints(txn, after_id, export_page);
      for (auto& r : rows) {
        after_id = r.id;
        if (r.checkpoint.seq >= seqs.first && r.checkpoint.seq <= seqs.last)
          covering.push_back(std::move(r.checkpoint));
      }
      if (rows.size() < static_cast<size_t>(export_page))
        break;
    }
    std::stable_sort(covering.begin(), covering.end(),
                     [](const auto& a, const auto& b) {
                       return a.seq < b.seq;
                     });
    chunk.clear();
    for (const auto& c : covering) {
      chunk += export_checkpoint_line(c) + "\n";
      ++out.checkpoints;
    }
    if (!chunk.empty())
      sink(chunk);
  });
  return out;
}

} // namespace hitl
