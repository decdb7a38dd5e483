#include "http/request_error.hpp"

#include "policy/utf8.hpp"

namespace hitl {

void error_list::add(std::string field, std::string message) {
  if (errors_.size() < max_listed)
    errors_.push_back({std::move(field), std::move(message)});
  ++total_;
}

bool error_list::check_text(const std::string& path, std::string_view s,
                            size_t max_chars, const std::string& what) {
  if (s.find('\0') != std::string_view::npos) {
    add(path, what + "must not contain the NUL character (\\u0000)");
    return false;
  }
  if (char_count(s) > max_chars) {
    add(path, what + "is longer than " + std::to_string(max_chars)
                + " characters");
    return false;
  }
  return true;
}

request_error error_list::to_error(int status, std::string_view what) && {
  request_error err;
  err.status = status;
  err.detail = "invalid " + std::string{what} + ": ";
  const auto& first = errors_.front();
  if (!first.field.empty())
    err.detail += first.field + " ";
  err.detail += first.message;
  if (total_ > 1)
    err.detail += " (and " + std::to_string(total_ - 1) + " more problem"
                  + (total_ > 2 ? "s" : "") + ")";
  if (total_ > errors_.size())
    err.detail += "; the first " + std::to_string(errors_.size())
                  + " are listed";
  err.errors = std::move(errors_);
  return err;
}

} // namespace hitl
