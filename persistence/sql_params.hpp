#pragma once

// Internal to persistence/: builds the parameter list of a prepared statement,
// with SQL NULL for absent values. Includes libpqxx, so never include it from
// a header outside persistence/.

#include <pqxx/prepared_statement>

#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace hitl {

/// A SQL array literal of integers, "{1,2,3}", one `value_of(item)` per
/// item: libpqxx 6.4 has no array parameters.
template <class Range, class Value>
std::string int_array_literal(const Range& items, Value value_of) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1)
      out += ',';
    out += std::to_string(value_of(item));
  }
  return out + "}";
}

/// A SQL array literal of texts, {"a","b"}: each element quoted, its
/// backslashes and double quotes escaped.
inline std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1)
      out += ',';
    out += '"';
    for (char c : item) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

class sql_params {
public:
  sql_params& add(std::string v) {
    store_.push_back(std::move(v));
    ptrs_.push_back(store_.back().c_str());
    return *this;
  }
  sql_params& add(const char* v) {
    return add(std::string{v});
  }
  sql_params& add(int64_t v) {
    return add(std::to_string(v));
  }
  sql_params& add(int v) {
    return add(std::to_string(v));
  }
  sql_params& add(bool v) {
    return add(std::string{v ? "true" : "false"});
  }
  sql_params& add(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    return add(std::string{buf});
  }
  sql_params& null() {
    ptrs_.push_back(nullptr);
    return *this;
  }
  template <class T>
  sql_params& add(const std::optional<T>& v) {
    return v ? add(*v) : null();
  }

  auto dynamic() const {
    return pqxx::prepare::make_dynamic_params(ptrs_);
  }

private:
  std::deque<std::string> store_; // stable addresses for ptrs_
  std::vector<const char*> ptrs_;
};

} // namespace hitl
