#include "policy/audit_export_format.hpp"

#include <nlohmann/json.hpp>

namespace hitl {

namespace {

using json = nlohmann::json;

json optional_text(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string csv_field(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos)
    return std::string{v};
  std::string out = "\"";
  for (char c : v) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

} // namespace

std::string export_entry_line(const audit_entry& e) {
  json j;
  j["type"] = "entry";
  j["seq"] = e.seq;
  // Null for entries of no decision (tokens), as the hash has it.
  j["decision_id"] =
    e.decision_id.empty() ? json(nullptr) : json(e.decision_id);
  j["action"] = std::string{to_string(e.action)};
  j["performed_by"] = e.performed_by;
  j["timestamp"] = format_iso(e.at);
  j["details"] = json::parse(e.details_json, nullptr, false);
  j["ip_address"] = optional_text(e.ip_address);
  j["user_agent"] = optional_text(e.user_agent);
  j["prev_hash"] = e.prev_hash;
  j["hash"] = e.hash;
  if (e.link) {
    j["partition"] = e.link->partition.value;
    j["pseq"] = e.link->pseq;
    j["epoch"] = e.link->epoch;
  }
  return dump(j);
}

std::string export_checkpoint_line(const audit_checkpoint& c) {
  auto j = json::parse(to_json_line(c));
  j["type"] = "checkpoint";
  return dump(j);
}

std::string export_csv_header() {
  return "seq,timestamp,decision_id,action,performed_by,details,ip_address,"
         "user_agent,prev_hash,hash,partition,pseq,epoch";
}

std::string export_csv_row(const audit_entry& e) {
  std::string details;
  try {
    details = canonical_details(json::parse(e.details_json));
  } catch (const json::exception&) {
    details = e.details_json;
  }
  std::string out;
  out += std::to_string(e.seq) + ",";
  out += format_iso(e.at) + ",";
  out += csv_field(e.decision_id) + ",";
  out += std::string{to_string(e.action)} + ",";
  out += csv_field(e.performed_by) + ",";
  out += csv_field(details) + ",";
  out += csv_field(e.ip_address.value_or("")) + ",";
  out += csv_field(e.user_agent.value_or("")) + ",";
  out += e.prev_hash + "," + e.hash;
  if (e.link)
    out += "," + std::to_string(e.link->partition.value) + ","
           + std::to_string(e.link->pseq) + ","
           + std::to_string(e.link->epoch);
  else
    out += ",,,";
  return out;
}

parsed_entry parse_export_entry(std::string_view line) {
  auto j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return {std::nullopt, "not a JSON object"};
  audit_entry e;
  auto text = [&](const char* key, std::string& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
      return false;
    out = it->get<std::string>();
    return true;
  };
  auto nullable = [&](const char* key, std::optional<std::string>& out) {
    auto it = j.find(key);
    if (it == j.end())
      return false;
    if (it->is_null())
      return true;
    if (!it->is_string())
      return false;
    out = it->get<std::string>();
    return true;
  };
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer() || seq->get<int64_t>() < 1)
    return {std::nullopt, "seq: expected a positive integer"};
  e.seq = seq->get<int64_t>();
  std::string action, at;
  // Null for an entry of no decision (a token's); never "", which would
  // hash as null too.
  std::optional<std::string> decision;
  if (!nullable("decision_id", decision) || (decision && decision->empty()))
    return {std::nullopt, "decision_id: expected a non-empty string or null"};
  e.decision_id = decision.value_or("");
  if (!text("action", action))
    return {std::nullopt, "action: expected a string"};
  auto parsed_action = parse_audit_action(action);
  if (!parsed_action)
    return {std::nullopt, "action: unknown action \"" + action + "\""};
  e.action = *parsed_action;
  if (!text("performed_by", e.performed_by))
    return {std::nullopt, "performed_by: expected a string"};
  if (!text("timestamp", at))
    return {std::nullopt, "timestamp: expected a string"};
  auto parsed_at = parse_iso(at);
  if (!parsed_at || format_iso(*parsed_at) != at)
    return {std::nullopt, "timestamp: expected a time as the chain writes it"};
  e.at = *parsed_at;
  auto details = j.find("details");
  if (details == j.end() || !details->is_object())
    return {std::nullopt, "details: expected an object"};
  e.details_json = dump(*details);
  if (!nullable("ip_address", e.ip_address))
    return {std::nullopt, "ip_address: expected a string or null"};
  if (!nullable("user_agent", e.user_agent))
    return {std::nullopt, "user_agent: expected a string or null"};
  if (!text("prev_hash", e.prev_hash))
    return {std::nullopt, "prev_hash: expected a string"};
  if (!text("hash", e.hash))
    return {std::nullopt, "hash: expected a string"};
  // An entry of a partition's chain has all three; one of the common
  // prefix none.
  auto number = [&](const char* key, int64_t& out) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 0)
      return false;
    out = it->get<int64_t>();
    return true;
  };
  if (j.contains("partition") || j.contains("pseq") || j.contains("epoch")) {
    chain_link link;
    int64_t partition = 0;
    if (!number("partition", partition) || partition >= partition_count)
      return {std::nullopt, "partition: expected an integer from 0 to "
                              + std::to_string(partition_count - 1)};
    link.partition = partition_id{static_cast<int>(partition)};
    if (!number("pseq", link.pseq) || link.pseq == 0)
      return {std::nullopt, "pseq: expected a positive integer"};
    if (!number("epoch", link.epoch))
      return {std::nullopt, "epoch: expected a non-negative integer"};
    e.link = link;
  }
  return {std::move(e), {}};
}

} // namespace hitl
