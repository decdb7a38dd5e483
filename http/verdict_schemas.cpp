// The bodies of the four verdict routes (approve, reject, comment, cancel).

#include "http/body_schemas.hpp"

#include "http/json_reader.hpp"

namespace hitl {

using namespace strict_json;

namespace {

constexpr size_t max_text_chars = 10000;

} // namespace

namespace {

// The verdict bodies share their shape: read the fields, then accept the
// original client's `user`, which the token's identity replaces.
template <class T, class Read>
parsed<T> parse_verdict_body(std::string_view body, empty_body if_empty,
                             Read read) {
  error_list errors;
  json doc;
  if (auto refused = read_object(body, if_empty, doc, errors))
    return *refused;
  object_reader r{doc, "", errors};
  T out;
  out.decision_id = decision_id_field(r);
  read(r, out);
  if (const json* user = r.get("user"); user && !user->is_string())
    errors.add("user", "must be a string or null (it is ignored: the "
                       "token names the user)");
  r.report_unknown();
  if (!errors.empty())
    return std::move(errors).to_error(422, "request body");
  return out;
}

} // namespace

parsed<approve_body> parse_approve(std::string_view body) {
  return parse_verdict_body<approve_body>(
    body, empty_body::is_empty_object, [](object_reader& r, approve_body& b) {
      b.comment = string_field(r, "comment", max_text_chars,
                               presence::optional);
    });
}

parsed<reject_body> parse_reject(std::string_view body) {
  return parse_verdict_body<reject_body>(
    body, empty_body::refused, [](object_reader& r, reject_body& b) {
      b.reason = string_field(r, "reason", max_text_chars, presence::required)
                   .value_or("");
      b.comment = string_field(r, "comment", max_text_chars,
                               presence::optional);
    });
}

parsed<comment_body> parse_comment(std::string_view body) {
  return parse_verdict_body<comment_body>(
    body, empty_body::refused, [](object_reader& r, comment_body& b) {
      b.comment = string_field(r, "comment", max_text_chars,
                               presence::required)
                    .value_or("");
    });
}

parsed<cancel_body> parse_cancel(std::string_view body) {
  return parse_verdict_body<cancel_body>(
    body, empty_body::is_empty_object, [](object_reader& r, cancel_body& b) {
      b.reason = string_field(r, "reason", max_text_chars, presence::optional);
    });
}

} // namespace hitl
