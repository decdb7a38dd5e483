#include "persistence/token_repository.hpp"

#include "persistence/db_error.hpp"
#include "persistence/sql_params.hpp"

#include <openssl/rand.h>
#include <pqxx/pqxx>

#include <array>

namespace hitl {

namespace {

token_info read_token(const pqxx::row& r) {
  token_info t;
  t.id = r[0].as<int64_t>();
  t.name = r[1].as<std::string>();
  t.role = parse_role(r[2].c_str()).value_or(role::reviewer);
  t.created_at = from_micros(r[3].as<int64_t>());
  if (!r[4].is_null())
    t.revoked_at = from_micros(r[4].as<int64_t>());
  if (!r[5].is_null())
    t.last_used_at = from_micros(r[5].as<int64_t>());
  t.token_hash = r[6].as<std::string>();
  if (!r[7].is_null())
    t.expires_at = from_micros(r[7].as<int64_t>());
  return t;
}

constexpr const char* token_columns = R"(id, name, role,
  hitl_micros(created_at), hitl_micros(revoked_at), hitl_micros(last_used_at),
  token_hash, hitl_micros(expires_at))";

constexpr const char* unexpired = "(expires_at IS NULL OR expires_at > now())";

} // namespace

std::string generate_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("the system random generator failed");
  static constexpr char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "hitl_";
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0)
    out += alphabet[(acc << (6 - bits)) & 0x3f];
  return out;
}

void prepare_token_statements(pqxx::connection_base& conn) {
  auto active = std::string{"revoked_at IS NULL AND "} + unexpired;
  conn.prepare("token_insert", std::string{R"(
    INSERT INTO hitl_api_tokens (name, role, token_hash, expires_at)
    VALUES ($1, $2, $3, now() + $4::bigint * interval '1 microsecond')
    RETURNING )"} + token_columns);
  conn.prepare("token_by_id", std::string{"SELECT "} + token_columns
                                + " FROM hitl_api_tokens WHERE id = $1");
  conn.prepare("token_active_of", std::string{"SELECT "} + token_columns
                                    + " FROM hitl_api_tokens WHERE name = $1"
                                      " AND " + active);
  conn.prepare("token_expired_of", std::string{"SELECT "} + token_columns
                                     + R"( FROM hitl_api_tokens
    WHERE name = $1 AND revoked_at IS NULL AND expires_at <= now())");
  // The partial unique index of 017 answers the NOT EXISTS.
  conn.prepare("token_unrecorded_expiries", std::string{"SELECT "}
                                              + token_columns + R"(
    FROM hitl_api_tokens t
    WHERE expires_at <= now()
      AND (revoked_at IS NULL OR revoked_at >= expires_at)
      AND NOT EXISTS (
        SELECT 1 FROM hitl_audit_logs a
        WHERE a.decision_id IS NULL AND a.action = 'token_expired'
          AND (a.details ->> 'token_id')::bigint = t.id)
    ORDER BY id LIMIT 100)");
  conn.prepare("token_retire_expired", R"(
    UPDATE hitl_api_tokens SET revoked_at = now()
    WHERE name = $1 AND revoked_at IS NULL AND expires_at <= now())");
  conn.prepare("token_list", std::string{"SELECT "} + token_columns
                               + " FROM hitl_api_tokens ORDER BY ("
                               + active + ") DESC, id DESC");
  conn.prepare("token_list_active", std::string{"SELECT "} + token_columns
                                      + " FROM hitl_api_tokens WHERE "
                                      + active);
  conn.prepare("token_revoke", "UPDATE hitl_api_tokens SET revoked_at = now()"
                               " WHERE name = $1 AND "
                                 + active);
  conn.prepare("token_touch", R"(
    UPDATE hitl_api_tokens SET last_used_at = now()
    WHERE id = ANY($1::bigint[])
      AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))");
  conn.prepare("token_find", std::string{"SELECT "} + token_columns
                               + " FROM hitl_api_tokens"
                                 " WHERE token_hash = $1 AND "
                               + active);
}

token_info insert_token(pqxx::transaction_base& txn,
                        const std::string& name, role r,
                        const std::string& token_hash,
                        std::optional<duration> lifetime) {
  sql_params p;
  p.add(name).add(std::string{to_string(r)}).add(token_hash);
  if (lifetime)
    p.add(static_cast<int64_t>(lifetime->count()));
  else
    p.null();
  return read_token(txn.exec_prepared("token_insert", p.dynamic())[0]);
}

namespace {

std::optional<token_info> first_token(const pqxx::result& r) {
  if (r.empty())
    return std::nullopt;
  return read_token(r[0]);
}

} // namespace

std::optional<token_info> find_token(pqxx::transaction_base& txn, int64_t id) {
  return first_token(txn.exec_prepared("token_by_id", id));
}

std::optional<token_info> find_active_token_of(pqxx::transaction_base& txn,
                                               const std::string& name) {
  return first_token(txn.exec_prepared("token_active_of", name));
}

std::optional<token_info> find_expired_token_of(pqxx::transaction_base& txn,
                                                const std::string& name) {
  return first_token(txn.exec_prepared("token_expired_of", name));
}

std::vector<token_info> unrecorded_expiries(pqxx::transaction_base& txn) {
  std::vector<token_info> out;
  for (const auto& r : txn.exec_prepared("token_unrecorded_expiries"))
    out.push_back(read_token(r));
  return out;
}

bool retire_expired_token(pqxx::transaction_base& txn,
                          const std::string& name) {
  return txn.exec_prepared("token_retire_expired", name).affected_rows() > 0;
}

std::vector<token_info> list_tokens(pqxx::transaction_base& txn) {
  std::vector<token_info> out;
  for (const auto& r : txn.exec_prepared("token_list"))
    out.push_back(read_token(r));
  return out;
}

std::vector<token_info> list_active_tokens(pqxx::transaction_base& txn) {
  std::vector<token_info> out;
  for (const auto& r : txn.exec_prepared("token_list_active"))
    out.push_back(read_token(r));
  return out;
}

bool revoke_token(pqxx::transaction_base& txn, const std::string& name) {
  return txn.exec_prepared("token_revoke", name).affected_rows() > 0;
}

std::optional<token_info> find_active_token(pqxx::transaction_base& txn,
                                            const std::string& token_hash) {
  auto r = txn.exec_prepared("token_find", token_hash);
  if (r.empty())
    return std::nullopt;
  return read_token(r[0]);
}

size_t touch_tokens(pqxx::transaction_base& txn,
                    const std::vector<int64_t>& ids) {
  if (ids.empty())
    return 0;
  std::string array = "{";
  for (auto id : ids) {
    if (array.size() > 1)
      array += ',';
    array += std::to_string(id);
  }
  array += '}';
  return txn.exec_prepared("token_touch", array).affected_rows();
}

} // namespace hitl
