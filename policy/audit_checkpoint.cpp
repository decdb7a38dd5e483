#include "policy/audit_checkpoint.hpp"

#include "policy/checkpoint_signature.hpp"

#include <nlohmann/json.hpp>

namespace hitl {

namespace {

using json = nlohmann::json;

// nlohmann's object is a std::map: its keys come out sorted.
json signed_members(const audit_checkpoint& c) {
  return json{{"at", format_iso(c.at)},
              {"count", c.count},
              {"hash", c.hash},
              {"key_id", c.key_id},
              {"seq", c.seq}};
}

bool is_hex64(const std::string& s) {
  return s.size() == 64
         && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

} // namespace

std::string signed_bytes(const audit_checkpoint& c) {
  return signed_members(c).dump();
}

void sign_checkpoint(audit_checkpoint& c, const signing_key& key) {
  c.key_id = key.public_key().key_id();
  c.signature = key.sign(signed_bytes(c));
}

std::optional<std::string> checkpoint_fault(const audit_checkpoint& c,
                                            const verify_key& key) {
  if (c.key_id != key.key_id())
    return "signed by key " + c.key_id + ", not by the given key "
           + key.key_id();
  if (!key.verify(signed_bytes(c), c.signature))
    return "the signature does not verify with key " + key.key_id();
  return std::nullopt;
}

std::string to_json_line(const audit_checkpoint& c) {
  auto j = signed_members(c);
  j["signature"] = c.signature;
  return j.dump();
}

parsed_checkpoint parse_checkpoint_line(std::string_view line) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {std::nullopt, "not a JSON object"};
  auto text = [&](const char* key, std::string& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
      return false;
    out = it->get<std::string>();
    return true;
  };
  auto number = [&](const char* key, int64_t& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0)
      return false;
    out = it->get<int64_t>();
    return true;
  };
  audit_checkpoint c;
  std::string at;
  if (!number("seq", c.seq))
    return {std::nullopt, "seq: expected a non-negative integer"};
  if (!number("count", c.count))
    return {std::nullopt, "count: expected a non-negative integer"};
  if (!text("hash", c.hash) || !is_hex64(c.hash))
    return {std::nullopt, "hash: expected 64 lowercase hex digits"};
  if (!text("at", at))
    return {std::nullopt, "at: expected a string"};
  auto parsed_at = parse_iso(at);
  if (!parsed_at || format_iso(*parsed_at) != at)
    return {std::nullopt, "at: expected a time as format_iso writes it"};
  c.at = *parsed_at;
  if (!text("key_id", c.key_id))
    return {std::nullopt, "key_id: expected a string"};
  if (!text("signature", c.signature))
    return {std::nullopt, "signature: expected a string"};
  return {std::move(c), {}};
}

} // namespace hitl
