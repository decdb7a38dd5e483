#include "policy/audit_checkpoint.hpp"

#include "policy/checkpoint_signature.hpp"

#include <nlohmann/json.hpp>

namespace hitl {

namespace {

using json = nlohmann::json;

void add_heads(json& j, const chain_heads& h) {
  auto heads = json::array();
  for (size_t p = 0; p < h.partitions.size(); ++p)
    if (h.partitions[p].seq != 0)
      heads.push_back(
        json::array({p, h.partitions[p].seq, h.partitions[p].hash}));
  j["heads"] = std::move(heads);
  j["prefix"] = json::array({h.prefix.seq, h.prefix.hash});
}

// nlohmann's object is a std::map: its keys come out sorted.
json signed_members(const audit_checkpoint& c) {
  json j{{"at", format_iso(c.at)},
         {"count", c.count},
         {"hash", c.hash},
         {"key_id", c.key_id},
         {"seq", c.seq}};
  if (c.heads)
    add_heads(j, *c.heads);
  return j;
}

bool is_hex64(const std::string& s) {
  return s.size() == 64
         && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

bool is_place(const json& v) {
  return v.is_number_integer() && v.get<int64_t>() >= 0;
}

bool is_hash(const json& v) {
  return v.is_string() && is_hex64(v.get<std::string>());
}

parsed_heads heads_of(const json& j) {
  auto prefix = j.find("prefix");
  if (prefix == j.end() || !prefix->is_array() || prefix->size() != 2
      || !is_place((*prefix)[0]) || !is_hash((*prefix)[1]))
    return {std::nullopt, "prefix: expected [seq, hash]"};
  auto h = chain_heads::after_prefix(
    {(*prefix)[0].get<int64_t>(), (*prefix)[1].get<std::string>()});
  auto heads = j.find("heads");
  if (heads == j.end() || !heads->is_array())
    return {std::nullopt, "heads: expected an array"};
  int64_t last = -1;
  for (const auto& head : *heads) {
    if (!head.is_array() || head.size() != 3 || !is_place(head[0])
        || !is_place(head[1]) || head[1].get<int64_t>() == 0
        || !is_hash(head[2]))
      return {std::nullopt, "heads: expected [partition, pseq, hash] with "
                            "pseq above 0"};
    auto p = head[0].get<int64_t>();
    if (p <= last || p >= partition_count)
      return {std::nullopt, "heads: partitions must be below "
                              + std::to_string(partition_count)
                              + " and in ascending order"};
    last = p;
    h.partitions[static_cast<size_t>(p)] =
      chain_head{head[1].get<int64_t>(), head[2].get<std::string>()};
  }
  return {std::move(h), {}};
}

} // namespace

std::string heads_json(const chain_heads& heads) {
  json j = json::object();
  add_heads(j, heads);
  return j.dump();
}

parsed_heads parse_heads_json(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {std::nullopt, "not a JSON object"};
  return heads_of(j);
}

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
  // Signed, so the signer made it so: a signer that vouched for heads that
  // do not add up vouched for nothing.
  if (c.heads && chains_root(*c.heads) != c.hash)
    return "its hash is not the root of its heads";
  if (c.heads && c.heads->count() != c.count)
    return "its count is not the number of entries its heads say";
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
  if (j.contains("heads") || j.contains("prefix")) {
    auto heads = heads_of(j);
    if (!heads.heads)
      return {std::nullopt, heads.error};
    c.heads = std::move(heads.heads);
  }
  return {std::move(c), {}};
}

} // namespace hitl
