// The one-shot commands: migrate, token create|list|revoke, audit verify.
// Output for people goes to stderr; stdout carries only what scripts read.

#include "cli/commands.hpp"

#include "cli/checkpoint_check.hpp"
#include "cli/duration_text.hpp"
#include "persistence/audit_verification.hpp"
#include "persistence/cluster_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/migrations.hpp"
#include "persistence/outbox_repository.hpp"
#include "persistence/token_repository.hpp"
#include "persistence/token_trail.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace hitl {

namespace {

connection_pool make_pool(const std::string& url) {
  pool_options opts;
  opts.url = url;
  opts.min_size = 1;
  opts.max_size = 1;
  opts.acquire_timeout = std::chrono::seconds(10);
  return connection_pool{opts};
}

template <class F>
int guarded(F&& f) {
  try {
    return f();
  } catch (const schema_error& e) {
    std::cerr << "hitl: " << e.what() << "\n";
  } catch (const db_error& e) {
    std::cerr << "hitl: database " << to_string(e.code) << ": " << e.what()
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "hitl: " << e.what() << "\n";
  }
  return EXIT_FAILURE;
}

// The decisions' rows against the chain: one line per mismatch.
void print_decision_check(const verification_report& report) {
  if (report.mismatch_count == 0) {
    std::cout << "decisions agree with the chain: " << report.decisions_checked
              << " decisions\n";
    return;
  }
  std::cout << "decisions DISAGREE with the chain: " << report.mismatch_count
            << " mismatch(es) in " << report.decisions_checked
            << " decisions\n";
  for (const auto& m : report.mismatches)
    std::cout << m.message << "\n";
  auto more = report.mismatch_count
              - static_cast<int64_t>(report.mismatches.size());
  if (more > 0)
    std::cout << "... and " << more << " more\n";
}

// Who issues or revokes: the flag, else the operating system's user. The
// chain records it as performed_by, with the database's session user.
std::optional<std::string> performer_or_os_user(const std::string& flag) {
  if (!flag.empty())
    return flag;
  if (const auto* pw = getpwuid(geteuid()); pw && pw->pw_name && *pw->pw_name)
    return std::string{pw->pw_name};
  if (const char* user = std::getenv("USER"); user && *user)
    return std::string{user};
  std::cerr << "hitl: cannot tell who you are: pass --issued-by or "
               "--revoked-by\n";
  return std::nullopt;
}


// The tokens' rows against their entries: one line per token fault.
void print_token_check(const token_check& check) {
  if (check.mismatch_count == 0) {
    std::cout << "tokens agree with the chain: " << check.tokens_checked
              << " tokens";
    if (check.issued_before_trail > 0)
      std::cout << " (" << check.issued_before_trail
                << " issued before the chain recorded tokens)";
    std::cout << "\n";
    return;
  }
  std::cout << "tokens DISAGREE with the chain: " << check.mismatch_count
            << " fault(s) in " << check.tokens_checked << " tokens\n";
  for (const auto& m : check.mismatches)
    std::cout << m.message << "\n";
  auto more = check.mismatch_count
              - static_cast<int64_t>(check.mismatches.size());
  if (more > 0)
    std::cout << "... and " << more << " more\n";
}

} // namespace

std::string resolve_database_url(const std::string& flag) {
  if (!flag.empty())
    return flag;
  if (const char* env = std::getenv("HITL_DATABASE_URL"); env && *env)
    return env;
  return "dbname=hitl";
}

int run_migrate(const std::string& url, const std::string& runtime_role) {
  return guarded([&] {
    migrate_options opts;
    opts.runtime_role = runtime_role;
    auto report = apply_migrations(url, opts);
    for (const auto& name : report.applied)
      std::cerr << "applied " << name << "\n";
    std::cerr << "schema at version " << report.current_version
              << (report.applied.empty() ? " (nothing to do)" : "") << "\n";
    if (report.role_created)
      std::cerr << "created role " << runtime_role << " (NOLOGIN: give it "
                << "LOGIN and a password for serve)\n";
    std::cerr << "granted " << runtime_role << " what serve needs\n";
    return EXIT_SUCCESS;
  });
}

int run_token_create(const std::string& url, const std::string& name,
                     const std::string& role_name,
                     const std::optional<std::string>& expires_in,
                     const std::string& issued_by) {
  return guarded([&] {
    auto r = parse_role(role_name);
    if (!r) {
      std::cerr << "hitl: unknown role '" << role_name << "'\n";
      return EXIT_FAILURE;
    }
    std::optional<duration> lifetime;
    if (expires_in) {
      auto parsed = parse_duration_text(*expires_in);
      if (!parsed.error.empty()) {
        std::cerr << "hitl: --expires-in " << parsed.error << "\n";
        return EXIT_FAILURE;
      }
      lifetime = std::chrono::duration_cast<duration>(parsed.value);
    }
    auto issuer = performer_or_os_user(issued_by);
    if (!issuer)
      return EXIT_FAILURE;
    apply_migrations(url);
    auto pool = make_pool(url);
    auto token = generate_token();
    bool retired = false;
    try {
      // The token's row and its entries in one transaction, so that a row
      // without its entry can only come from someone bypassing this
      // command. Each entry's partition stays locked until the commit
      // (append_token_entry): serve's auditor waits, then seals after it.
      pool.transact([&](pqxx::transaction_base& txn) {
        auto db_user = session_user(txn);
        retired = false;
        // The name's expired token is retired to free the name; its expiry
        // goes into the chain here unless serve recorded it already.
        if (auto old = find_expired_token_of(txn, name)) {
          retired = retire_expired_token(txn, name);
          if (!has_token_entry(txn, old->id, audit_action::token_expired))
            append_token_entry(txn, old->id,
                               token_entry(audit_action::token_expired, *old,
                                           expiry_performer, db_user));
        }
        auto row = insert_token(txn, name, *r, hash_token(token), lifetime);
        append_token_entry(txn, row.id,
                           token_entry(audit_action::token_created, row,
                                       *issuer, db_user));
      });
    } catch (const db_error& e) {
      if (e.code == db_errc::conflict) {
        std::cerr << "hitl: '" << name
                  << "' already has an active token; revoke it first\n";
        return EXIT_FAILURE;
      }
      if (e.code == db_errc::constraint) {
        std::cerr << "hitl: invalid name '" << name
                  << "' (letters, digits, . _ @ -; at most 255)\n";
        return EXIT_FAILURE;
      }
      throw;
    }
    if (retired)
      std::cerr << "retired the expired token of '" << name << "'\n";
    std::cout << token << std::endl;
    return EXIT_SUCCESS;
  });
}

int run_token_list(const std::string& url) {
  return guarded([&] {
    auto pool = make_pool(url);
    std::vector<token_info> tokens;
    pool.read([&](pqxx::transaction_base& txn) { tokens = list_tokens(txn); });
    auto at = now();
    std::printf("%-24s %-9s %-8s %-27s %-27s %s\n", "NAME", "ROLE", "STATE",
                "CREATED", "EXPIRES", "LAST USED");
    for (const auto& t : tokens)
      std::printf("%-24s %-9s %-8s %-27s %-27s %s\n", t.name.c_str(),
                  std::string{to_string(t.role)}.c_str(),
                  std::string{to_string(state_of(t, at))}.c_str(),
                  format_iso(t.created_at).c_str(),
                  t.expires_at ? format_iso(*t.expires_at).c_str() : "never",
                  t.last_used_at ? format_iso(*t.last_used_at).c_str() : "-");
    return EXIT_SUCCESS;
  });
}

int run_token_revoke(const std::string& url, const std::string& name,
                     const std::string& revoked_by) {
  return guarded([&] {
    auto revoker = performer_or_os_user(revoked_by);
    if (!revoker)
      return EXIT_FAILURE;
    auto pool = make_pool(url);
    bool revoked = false;
    pool.transact([&](pqxx::transaction_base& txn) {
      auto token = find_active_token_of(txn, name);
      revoked = token && revoke_token(txn, name);
      if (revoked)
        append_token_entry(txn, token->id,
                           token_entry(audit_action::token_revoked, *token,
                                       *revoker, session_user(txn)));
    });
    if (!revoked) {
      std::cerr << "hitl: no active token for '" << name
              << "' (none, revoked or expired)\n";
      return EXIT_FAILURE;
    }
    std::cerr << "revoked the token of '" << name << "'\n";
    return EXIT_SUCCESS;
  });
}

int run_audit_verify(const std::string& url,
                     const audit_verify_options& opts) {
  return guarded([&] {
    auto pool = make_pool(url);
    auto report = verify_audit_trail(pool);
    if (report.first_break) {
      const auto& b = *report.first_break;
      std::cout << "audit chain BROKEN at seq " << b.seq << " ("
                << to_string(b.kind) << "): " << b.message << "\n";
    } else {
      std::cout << "audit chain intact: " << report.checked
                << " entries, head " << report.head_hash << "\n";
    }
    print_decision_check(report);
    print_token_check(report.tokens);
    auto checkpoints = opts.public_key_file.empty()
                         ? checkpoint_verdict::hold
                         : check_checkpoints(pool, opts);
    std::cout << std::flush;
    if (report.first_break)
      return exit_chain_broken;
    if (checkpoints == checkpoint_verdict::contradicted)
      return exit_checkpoint_contradicted;
    if (checkpoints == checkpoint_verdict::unsigned_lines)
      return exit_checkpoint_unsigned;
    // A token's row that the chain does not account for is a row that
    // disagrees with it, as a decision's is.
    return report.mismatch_count > 0 || report.tokens.mismatch_count > 0
             ? exit_decision_mismatch
             : EXIT_SUCCESS;
  });
}

int run_outbox_list(const std::string& url, const std::string& state,
                    int limit) {
  return guarded([&] {
    auto pool = make_pool(url);
    std::vector<outbox_message> rows;
    pool.read([&](pqxx::transaction_base& txn) {
      rows = list_outbox(txn, parse_outbox_state(state), limit);
    });
    std::printf("%-8s %-9s %-22s %-8s %-27s %-36s %s\n", "ID", "STATE",
                "EVENT", "ATTEMPTS", "NEXT ATTEMPT", "DELIVERY", "TARGET / LAST ERROR");
    for (const auto& m : rows)
      std::printf("%-8lld %-9s %-22s %-8d %-27s %-36s %s%s%s\n",
                  static_cast<long long>(m.id),
                  std::string{to_string(m.state)}.c_str(), m.event.c_str(),
                  m.attempts, format_iso(m.next_attempt_at).c_str(),
                  m.delivery_id.c_str(), m.target_url.c_str(),
                  m.last_error ? " : " : "",
                  m.last_error ? m.last_error->c_str() : "");
    return EXIT_SUCCESS;
  });
}

int run_outbox_retry(const std::string& url, int64_t id) {
  return guarded([&] {
    auto pool = make_pool(url);
    bool queued = false;
    pool.transact(
      [&](pqxx::transaction_base& txn) { queued = retry_outbox(txn, id); });
    if (!queued) {
      std::cerr << "hitl: no pending or dead delivery with id " << id << "\n";
      return EXIT_FAILURE;
    }
    std::cerr << "delivery " << id << " queued again; a running service "
              << "sends it within a second\n";
    return EXIT_SUCCESS;
  });
}

int run_cluster_status(const std::string& url) {
  return guarded([&] {
    auto pool = make_pool(url);
    std::vector<node_status> nodes;
    std::vector<partition_owner> owners;
    pool.read([&](pqxx::transaction_base& txn) {
      nodes = list_nodes(txn);
      owners = partition_owners(txn);
    });
    std::printf("%-36s %-5s %-21s %-21s %-10s %-27s %s\n", "NODE", "STATE",
                "NODE ENDPOINT", "HTTP", "PARTITIONS", "LEASE UNTIL",
                "POLICY");
    for (const auto& n : nodes)
      std::printf("%-36s %-5s %-21s %-21s %-10d %-27s %s\n",
                  n.identity.node_id.c_str(), n.live ? "live" : "gone",
                  n.identity.node_endpoint.empty()
                    ? "-"
                    : n.identity.node_endpoint.c_str(),
                  n.identity.http_endpoint.c_str(), n.live ? n.partitions : 0,
                  format_iso(n.lease_until).c_str(),
                  n.identity.policy_version.c_str());
    auto orphans = std::count_if(owners.begin(), owners.end(),
                                 [](const auto& o) { return !o.node_id; });
    std::printf("partitions: %d, with a live owner: %d, without: %d\n",
                partition_count, partition_count - static_cast<int>(orphans),
                static_cast<int>(orphans));
    return EXIT_SUCCESS;
  });
}

} // namespace hitl
