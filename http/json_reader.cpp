#include "http/json_reader.hpp"

#include "http/client_text.hpp"
#include "policy/utf8.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hitl::strict_json {

namespace {

bool is_word(std::string_view key) {
  if (key.empty())
    return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

} // namespace

std::string member_path(const std::string& parent, std::string_view key) {
  if (is_word(key) && key.size() <= max_echoed_chars)
    return parent.empty() ? std::string{key} : parent + "." + std::string{key};
  return parent + "[" + json(echoable_text(key, max_echoed_chars)).dump() + "]";
}

std::string index_path(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

namespace {

struct too_deep {};

// Builds the DOM as json::parse does, through nlohmann's SAX interface, and
// refuses duplicate keys on the way: nlohmann::json keeps the last of two
// equal keys; a proxy or log reader may keep the first. Refusing duplicates
// leaves no room for two readings. (A parser callback did the same at about
// twice the cost: it copied every key into a std::set of its own.)
class dom_builder {
public:
  dom_builder(json& root, error_list& errors) : root_(root), errors_(errors) {
    // Nothing.
  }

  bool null() {
    *slot() = nullptr;
    return true;
  }
  bool boolean(bool v) {
    *slot() = v;
    return true;
  }
  bool number_integer(json::number_integer_t v) {
    *slot() = v;
    return true;
  }
  bool number_unsigned(json::number_unsigned_t v) {
    *slot() = v;
    return true;
  }
  bool number_float(json::number_float_t v, const json::string_t&) {
    *slot() = v;
    return true;
  }
  bool string(json::string_t& v) {
    *slot() = std::move(v);
    return true;
  }
  bool binary(json::binary_t& v) {
    *slot() = json::binary(std::move(v));
    return true;
  }
  bool start_object(std::size_t) {
    open(json::object());
    return true;
  }
  bool start_array(std::size_t) {
    open(json::array());
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool key(json::string_t& k) {
    auto& top = stack_.back();
    auto [member, added] =
      top.value->get_ref<json::object_t&>().try_emplace(std::move(k));
    top.key = &member->first;
    top.member = &member->second;
    if (!added) // the value that follows replaces it, as in json::parse
      errors_.add(path(), "is given more than once");
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    throw e;
  }

private:
  struct frame {
    json* value;
    const std::string* key = nullptr; // an object's member being read
    json* member = nullptr;
  };

  // Where the next value goes: the root, an array's new element, or the
  // member whose key came last. Pointers into the DOM stay valid: a map's
  // nodes do not move, and an array grows only while no child is open.
  json* slot() {
    if (stack_.empty())
      return &root_;
    auto& top = stack_.back();
    if (top.value->is_array())
      return &top.value->get_ref<json::array_t&>().emplace_back();
    return top.member;
  }

  void open(json container) {
    if (stack_.size() == max_depth)
      throw too_deep{};
    json* at = slot();
    *at = std::move(container);
    stack_.push_back({at});
  }

  std::string path() const {
    std::string out;
    for (const auto& f : stack_)
      out = f.value->is_object()
              ? member_path(out, *f.key)
              : index_path(out, f.value->size() - 1);
    return out;
  }

  json& root_;
  error_list& errors_;
  std::vector<frame> stack_;
};

std::string kind_of(const json& v) {
  switch (v.type()) {
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    default:
      return "a number";
  }
}

} // namespace

std::optional<request_error> read_object(std::string_view body,
                                         empty_body if_empty, json& out,
                                         error_list& errors) {
  if (is_blank(body)) {
    if (if_empty == empty_body::is_empty_object) {
      out = json::object();
      return std::nullopt;
    }
    return request_error{400, "the request body is empty; a JSON object is "
                              "required", {}};
  }
  // nlohmann's lexer takes a raw NUL for the end of the input, so that
  // `{...}\0anything` would parse; JSON never holds one unescaped.
  if (auto nul = body.find('\0'); nul != std::string_view::npos)
    return request_error{400, "malformed JSON: a raw NUL byte at offset "
                                + std::to_string(nul),
                         {}};
  try {
    dom_builder builder{out, errors};
    json::sax_parse(body.begin(), body.end(), &builder);
  } catch (const too_deep&) {
    return request_error{422, "the request body is nested deeper than "
                                + std::to_string(max_depth) + " levels",
                         {}};
  } catch (const json::exception& e) {
    // what() is "[json.exception.parse_error.101] parse error at line 1,
    // column 6: syntax error ..."; keep the part a person can act on.
    std::string_view what = e.what();
    if (auto pos = what.find("] "); pos != std::string_view::npos)
      what.remove_prefix(pos + 2);
    std::string detail = "malformed JSON";
    if (what.substr(0, 12) == "parse error ") {
      what.remove_prefix(12);
      detail += " ";
    } else {
      detail += ": ";
    }
    return request_error{400, detail + echoable_text(what, 240), {}};
  }
  if (!out.is_object())
    return request_error{422,
                         "the request body must be a JSON object, not "
                           + kind_of(out),
                         {}};
  return std::nullopt;
}

const json* object_reader::get(std::string_view key) {
  known_.push_back(key);
  auto i = obj_.find(key);
  return i == obj_.end() || i->is_null() ? nullptr : &*i;
}

void object_reader::report_unknown() {
  for (const auto& member : obj_.get_ref<const json::object_t&>())
    if (std::find(known_.begin(), known_.end(), member.first) == known_.end())
      errors_.add(member_path(path_, member.first), "unknown field");
}

std::optional<std::string> string_field(object_reader& r, std::string_view key,
                                        size_t max_chars, presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_string()) {
    r.errors().add(r.path(key), "must be a string");
    return std::nullopt;
  }
  const auto& s = v->get_ref<const std::string&>();
  if (p == presence::required && is_blank(s)) {
    r.errors().add(r.path(key), "is required and must not be blank");
    return std::nullopt;
  }
  if (!r.errors().check_text(r.path(key), s, max_chars))
    return std::nullopt;
  return s;
}

std::optional<int64_t> as_int64(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer())
    return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    // 2^63 is exact as a double; anything below it converts without UB.
    if (std::isfinite(d) && std::floor(d) == d && d >= -9223372036854775808.0
        && d < 9223372036854775808.0)
      return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> number_field(object_reader& r, std::string_view key,
                                   double lo, double hi, presence p,
                                   const char* message) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_number() || !std::isfinite(v->get<double>())
      || v->get<double>() < lo || v->get<double>() > hi) {
    r.errors().add(r.path(key), message);
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<bool> bool_field(object_reader& r, std::string_view key,
                               presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  if (!v->is_boolean()) {
    r.errors().add(r.path(key), "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

const char* const urgency_message
  = "must be one of low, medium, high, critical";

std::optional<urgency> urgency_field(object_reader& r, std::string_view key,
                                     presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return std::nullopt;
  }
  auto u = v->is_string() ? parse_urgency(v->get_ref<const std::string&>())
                          : std::nullopt;
  if (!u)
    r.errors().add(r.path(key), urgency_message);
  return u;
}

std::optional<std::string> decision_id_field(object_reader& r) {
  const json* v = r.get("decision_id");
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_string()
      || !valid_decision_id(v->get_ref<const std::string&>())) {
    r.errors().add(r.path("decision_id"),
                   "must be 1 to 255 characters of A-Z, a-z, 0-9, '.', '_', "
                   "':' and '-'");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::vector<std::string> string_list_field(object_reader& r,
                                           std::string_view key,
                                           size_t max_items,
                                           size_t max_chars) {
  std::vector<std::string> out;
  const json* v = r.get(key);
  if (v == nullptr)
    return out;
  auto path = r.path(key);
  if (!v->is_array()) {
    r.errors().add(path, "must be a list of strings");
    return out;
  }
  if (v->size() > max_items) {
    r.errors().add(path, "has more than " + std::to_string(max_items)
                           + " items");
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    auto item_path = index_path(path, i);
    if (!item.is_string())
      r.errors().add(item_path, "must be a string");
    else if (is_blank(item.get_ref<const std::string&>()))
      r.errors().add(item_path, "must not be blank");
    else if (r.errors().check_text(item_path, item.get_ref<const std::string&>(),
                                   max_chars))
      out.push_back(item.get<std::string>());
  }
  return out;
}

const json* object_field(object_reader& r, std::string_view key, presence p) {
  const json* v = r.get(key);
  if (v == nullptr) {
    if (p == presence::required)
      r.errors().add(r.path(key), "is required");
    return nullptr;
  }
  if (!v->is_object()) {
    r.errors().add(r.path(key), p == presence::required
                                  ? "must be an object"
                                  : "must be an object or null");
    return nullptr;
  }
  return v;
}

} // namespace hitl::strict_json
