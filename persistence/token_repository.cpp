#include "persistence/token_repository.hpp"

#include "persistence/db_error.hpp"
#include "persistence/sql_params.hpp"
#include "persistence/token_sql.hpp"

#include <openssl/rand.h>
#include <pqxx/pqxx>

#include <array>

namespace hitl {

namespace {

// The columns of sql::token_columns, in their order.
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
  return read_token(txn.exec_prepared(sql::token_insert.name, p.dynamic())[0]);
}

namespace {

std::optional<token_info> first_token(const pqxx::result& r) {
  if (r.empty())
    return std::nullopt;
  return read_token(r[0]);
}

} // namespace

std::optional<token_info> find_token(pqxx::transaction_base& txn, int64_t id) {
  return first_token(txn.exec_prepared(sql::token_by_id.name, id));
}

std::optional<token_info> find_active_token_of(pqxx::transaction_base& txn,
                                               const std::string& name) {
  return first_token(txn.exec_prepared(sql::token_active_of.name, name));
}

std::optional<token_info> find_expired_token_of(pqxx::transaction_base& txn,
                                                const std::string& name) {
  return first_token(txn.exec_prepared(sql::token_expired_of.name, name));
}

std::vector<token_info> unrecorded_expiries(pqxx::transaction_base& txn) {
  std::vector<token_info> out;
  for (const auto& r : txn.exec_prepared(sql::token_unrecorded_expiries.name))
    out.push_back(read_token(r));
  return out;
}

bool retire_expired_token(pqxx::transaction_base& txn,
                          const std::string& name) {
  return txn.exec_prepared(sql::token_retire_expired.name, name)
           .affected_rows()
         > 0;
}

std::vector<token_info> list_tokens(pqxx::transaction_base& txn) {
  std::vector<token_info> out;
  for (const auto& r : txn.exec_prepared(sql::token_list.name))
    out.push_back(read_token(r));
  return out;
}

std::vector<token_info> list_active_tokens(pqxx::transaction_base& txn) {
  std::vector<token_info> out;
  for (const auto& r : txn.exec_prepared(sql::token_list_active.name))
    out.push_back(read_token(r));
  return out;
}

bool revoke_token(pqxx::transaction_base& txn, const std::string& name) {
  return txn.exec_prepared(sql::token_revoke.name, name).affected_rows() > 0;
}

std::optional<token_info> find_active_token(pqxx::transaction_base& txn,
                                            const std::string& token_hash) {
  auto r = txn.exec_prepared(sql::token_find.name, token_hash);
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
  return txn.exec_prepared(sql::token_touch.name, array).affected_rows();
}

} // namespace hitl
