// Signed checkpoints (SPEC §11) with the real binary: `hitl key create`,
// `hitl serve` signing the chain head into the table, the file and a
// webhook, GET /hitl/audit/public-key, and `hitl audit verify --checkpoints`
// against chains tampered with as the database's superuser.

#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"
#include "tests/pg/webhook_receiver.hpp"

#include "persistence/audit_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "policy/audit_chain.hpp"
#include "policy/audit_checkpoint.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/checkpoint_signature.hpp"
#include "policy/sha256.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>

using namespace hitl;
using namespace hitl::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in{path};
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

void write_lines(const std::string& path,
                 const std::vector<std::string>& lines) {
  std::ofstream out{path, std::ios::trunc};
  for (const auto& l : lines)
    out << l << "\n";
}

void create(const served_hitl& s, const std::string& tok,
            const std::string& patch) {
  REQUIRE(create_decision(s.base_url(), tok, patch).status == 201);
}

std::string head_seq(const std::string& url) {
  return sql_scalar(url, "SELECT coalesce(max(seq), 0) FROM hitl_audit_logs");
}

bool checkpointed(const std::string& url, const std::string& seq) {
  return sql_scalar(url, "SELECT count(*) FROM hitl_audit_checkpoints"
                         " WHERE seq = " + seq)
         == "1";
}

/// What one signing service left behind: a database (stopped service),
/// its checkpoint file and the key.
struct signed_trail {
  std::string url;
  std::string key_file;
  std::string public_pem;
  std::string checkpoint_file;
  /// The seq of each checkpoint, in the order they were signed.
  std::vector<int64_t> seqs;
};

command_result key_create(const std::string& path) {
  return run_hitl({"key", "create", "--out", path});
}

// Three rounds of creations, each waited on until a checkpoint covers it,
// so that the file holds checkpoints at three different seqs.
const signed_trail& trail_template() {
  static signed_trail t;
  if (!t.url.empty())
    return t;
  t.url = fresh_database("hitl_ckpt_tpl");
  t.key_file = scratch_path("key.pem");
  auto made = key_create(t.key_file);
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  t.public_pem = made.out;
  t.checkpoint_file = scratch_path("checkpoints.jsonl");
  auto cfg = scratch_file("config.json",
                          json{{"audit",
                                {{"signing_key", t.key_file},
                                 {"checkpoint_seconds", 1},
                                 {"checkpoint_file", t.checkpoint_file}}}}
                            .dump());
  auto svc = issue_token(t.url, "wargaming", "service");
  {
    served_hitl s{t.url, {"--config", cfg}};
    for (int round = 0; round < 3; ++round) {
      for (int i = 0; i <= round; ++i)
        create(s, svc, "p-" + std::to_string(round) + "-" + std::to_string(i));
      auto seq = head_seq(t.url);
      REQUIRE_MESSAGE(eventually([&] { return checkpointed(t.url, seq); }),
                      s.log());
    }
  }
  for (const auto& line : lines_of(t.checkpoint_file))
    t.seqs.push_back(json::parse(line)["seq"].get<int64_t>());
  return t;
}

std::string copy_of(const std::string& tpl_url) {
  auto name_of = [](const std::string& url) {
    auto name = url.substr(url.find("dbname=") + 7);
    return name.substr(0, name.find(' '));
  };
  auto url = fresh_database("hitl_ckpt_copy");
  sql_exec(admin_url(), "DROP DATABASE \"" + name_of(url) + "\"");
  sql_exec(admin_url(), "CREATE DATABASE \"" + name_of(url) + "\" TEMPLATE \""
                          + name_of(tpl_url) + "\"");
  return url;
}

// As the owner may: with triggers off, change the entry at `seq` and seal
// every entry after it in its partition's chain again, and the partition's
// head with them, so that the chains verify on their own.
void reseal_from(const std::string& url, int64_t seq) {
  pqxx::connection conn{url};
  prepare_statements(conn);
  pqxx::work w{conn};
  w.exec("SET LOCAL session_replication_role = replica");
  auto entries = read_audit_entries(w, 0, 100000);
  auto edited = std::find_if(entries.begin(), entries.end(),
                             [&](const auto& e) { return e.seq == seq; });
  REQUIRE(edited != entries.end());
  REQUIRE(edited->link);
  auto partition = edited->link->partition;
  std::string prev = edited->prev_hash;
  for (auto it = edited; it != entries.end(); ++it) {
    auto& e = *it;
    if (!e.link || e.link->partition != partition)
      continue;
    if (e.seq == seq)
      e.ip_address = "203.0.113.66";
    e.details_json = canonical_details(json::parse(e.details_json));
    seal(e, prev);
    if (e.seq == seq)
      w.exec_params("UPDATE hitl_audit_logs SET ip_address = $2"
                    " WHERE seq = $1",
                    e.seq, *e.ip_address);
    w.exec_params("UPDATE hitl_audit_logs SET prev_hash = $2, hash = $3"
                  " WHERE seq = $1",
                  e.seq, e.prev_hash, e.hash);
    prev = e.hash;
  }
  w.exec_params("UPDATE hitl_partitions SET chain_hash = $2"
                " WHERE partition_id = $1",
                partition.value, prev);
  w.commit();
}

command_result verify(const std::string& url,
                      const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"audit", "verify", "--database-url", url};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_hitl(args);
}

std::string public_key_file_of(const std::string& pem) {
  return scratch_file("public.pem", pem);
}

std::string public_key_file(const signed_trail& t) {
  return public_key_file_of(t.public_pem);
}

// The file's line (1-based) of the checkpoint at `seq`.
size_t line_of(const signed_trail& t, int64_t seq) {
  for (size_t i = 0; i < t.seqs.size(); ++i)
    if (t.seqs[i] == seq)
      return i + 1;
  FAIL("no checkpoint at seq " << seq);
  return 0;
}

} // namespace

TEST_CASE("key create: a 0600 PEM and the public key; never overwrites") {
  auto path = scratch_path("new-key.pem");
  auto r = key_create(path);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::stringstream pem;
  pem << std::ifstream{path}.rdbuf();
  auto key = signing_key::from_pem(pem.str());
  CHECK(key.public_key().to_pem() == r.out);

  auto again = key_create(path);
  CHECK(again.exit_code != 0);
  CHECK(again.err.find("File exists") != std::string::npos);
  std::stringstream after;
  after << std::ifstream{path}.rdbuf();
  CHECK(after.str() == pem.str());
}

TEST_CASE("serve signs the chain head into the table, the file and a "
          "webhook, and serves the public key") {
  webhook_receiver rx;
  auto url = fresh_database("hitl_ckpt_serve");
  auto key_file = scratch_path("key.pem");
  auto made = key_create(key_file);
  REQUIRE(made.exit_code == 0);
  auto key = verify_key::from_pem(made.out);
  auto file = scratch_path("checkpoints.jsonl");
  auto cfg = scratch_file("config.json",
                          json{{"audit",
                                {{"signing_key", key_file},
                                 {"checkpoint_seconds", 1},
                                 {"checkpoint_file", file}}},
                               {"webhooks",
                                {{{"url", rx.url()},
                                  {"events", {"audit.checkpoint"}},
                                  {"secret", "s3cret"}}}}}
                            .dump());
  auto svc = issue_token(url, "wargaming", "service");
  served_hitl s{url, {"--config", cfg}};
  create(s, svc, "p-1");
  create(s, svc, "p-2");
  auto seq = head_seq(url);
  REQUIRE_MESSAGE(eventually([&] { return checkpointed(url, seq); }), s.log());

  // The table: every chain's head as committed, and their root, signed.
  auto row = sql_scalar(url, "SELECT json_build_object('seq', seq, 'hash',"
                             " hash, 'count', entry_count, 'key_id', key_id,"
                             " 'heads', heads)"
                             " FROM hitl_audit_checkpoints WHERE seq = "
                               + seq);
  auto j = json::parse(row);
  auto heads = parse_heads_json(j["heads"].dump());
  REQUIRE_MESSAGE(heads.heads, heads.error);
  for (int p = 0; p < partition_count; ++p)
    CHECK(heads.heads->partitions[static_cast<size_t>(p)]
          == chain_head{std::stoll(sql_scalar(
                          url, "SELECT chain_seq FROM hitl_partitions WHERE"
                               " partition_id = " + std::to_string(p))),
                        sql_scalar(url, "SELECT chain_hash FROM"
                                        " hitl_partitions WHERE partition_id"
                                        " = " + std::to_string(p))});
  CHECK(heads.heads->prefix == chain_head{});
  CHECK(j["hash"] == chains_root(*heads.heads));
  CHECK(std::to_string(j["count"].get<int64_t>())
        == sql_scalar(url, "SELECT count(*) FROM hitl_audit_logs"));
  CHECK(j["key_id"] == key.key_id());

  // The file: one line per checkpoint, the last one at the head.
  REQUIRE(eventually([&] {
    auto lines = lines_of(file);
    return !lines.empty()
           && json::parse(lines.back())["seq"].get<int64_t>()
                == std::stoll(seq);
  }));
  for (const auto& line : lines_of(file)) {
    auto p = parse_checkpoint_line(line);
    REQUIRE_MESSAGE(p.checkpoint, p.error);
    CHECK_FALSE(checkpoint_fault(*p.checkpoint, key));
  }
  // Each checkpoint of the table is in the file too (appended after its
  // commit), and each is of another head: signed only when the chain moved.
  CHECK(eventually([&] {
    return std::to_string(lines_of(file).size())
           == sql_scalar(url, "SELECT count(*) FROM hitl_audit_checkpoints");
  }));
  CHECK(sql_scalar(url, "SELECT count(DISTINCT seq) = count(*)"
                        " FROM hitl_audit_checkpoints")
        == "t");

  // The webhook: event audit.checkpoint, HMAC-signed, the checkpoint inside.
  REQUIRE(rx.wait_for(
    [&](const std::vector<received_hook>& hooks) {
      for (const auto& h : hooks)
        if (json::parse(h.body)["checkpoint"]["seq"].get<int64_t>()
            == std::stoll(seq))
          return true;
      return false;
    },
    30s));
  for (const auto& h : rx.received()) {
    CHECK(h.headers.at("x-hitl-event") == "audit.checkpoint");
    CHECK(h.headers.at("x-hitl-signature")
          == "sha256=" + hmac_sha256_hex("s3cret", h.body));
    auto body = json::parse(h.body);
    CHECK(body["event"] == "audit.checkpoint");
    auto p = parse_checkpoint_line(body["checkpoint"].dump());
    REQUIRE(p.checkpoint);
    CHECK_FALSE(checkpoint_fault(*p.checkpoint, key));
  }

  // The public key, to anyone.
  auto pk = http_request("GET", s.base_url() + "/hitl/audit/public-key");
  CHECK(pk.status == 200);
  CHECK(pk.body == made.out);
  CHECK(pk.headers["content-type"] == "application/x-pem-file");
  CHECK(http_request("POST", s.base_url() + "/hitl/audit/public-key").status
        == 405);
}

TEST_CASE("without a key: no checkpoints, and the public key is 404") {
  auto url = fresh_database("hitl_ckpt_nokey");
  served_hitl s{url};
  auto pk = http_request("GET", s.base_url() + "/hitl/audit/public-key");
  CHECK(pk.status == 404);
  CHECK(pk.headers["content-type"] == "application/problem+json");
}

TEST_CASE("serve refuses a signing key it cannot use") {
  auto url = fresh_database("hitl_ckpt_badkey");
  auto key_file = scratch_path("key.pem");
  auto made = key_create(key_file);
  REQUIRE(made.exit_code == 0);
  auto public_only = scratch_file("public.pem", made.out);
  for (const auto& path : {public_only, scratch_path("missing.pem")}) {
    auto cfg = scratch_file("config.json",
                            json{{"audit", {{"signing_key", path}}}}.dump());
    auto r = run_hitl({"serve", "--listen",
                       "127.0.0.1:" + std::to_string(free_port()),
                       "--database-url", url, "--config", cfg});
    CHECK(r.exit_code != 0);
    CHECK_MESSAGE((r.out + r.err).find(path) != std::string::npos,
                  (r.out + r.err));
  }
}

TEST_CASE("audit verify --checkpoints holds on the chain that was signed") {
  const auto& t = trail_template();
  REQUIRE(t.seqs.size() >= 3);
  auto r = verify(t.url, {"--checkpoints", t.checkpoint_file, "--public-key",
                          public_key_file(t)});
  CHECK_MESSAGE(r.exit_code == 0, (r.out + r.err));
  CHECK(r.out.find(std::to_string(t.seqs.size()) + " from the file")
        != std::string::npos);
  CHECK(r.out.find("refused") == std::string::npos);
  // The key a file names is its writer's: it is never taken from there.
  auto bare = verify(t.url, {"--checkpoints", t.checkpoint_file});
  CHECK(bare.exit_code != 0);
  CHECK(bare.err.find("--public-key") != std::string::npos);
}

TEST_CASE("a chain re-sealed after an edit passes verify, but contradicts "
          "the first checkpoint after the edit") {
  const auto& t = trail_template();
  REQUIRE(t.seqs.size() >= 3);
  auto url = copy_of(t.url);
  auto edited = t.seqs[0] + 1; // after the first checkpoint
  reseal_from(url, edited);
  auto plain = verify(url);
  CHECK_MESSAGE(plain.exit_code == 0, plain.out);
  auto r = verify(url, {"--checkpoints", t.checkpoint_file, "--public-key",
                        public_key_file(t)});
  CHECK(r.exit_code == 4);
  auto named = t.checkpoint_file + " line "
               + std::to_string(line_of(t, t.seqs[1])) + " (seq "
               + std::to_string(t.seqs[1]) + "): hash of partition ";
  CHECK_MESSAGE(r.out.find(named) != std::string::npos, r.out);
  MESSAGE(r.out);
  // The database's own checkpoints say the same, with the key alone.
  auto table = verify(url, {"--public-key", public_key_file(t)});
  CHECK(table.exit_code == 4);
  CHECK(table.out.find("hitl_audit_checkpoints id") != std::string::npos);
}

TEST_CASE("a chain cut short contradicts the checkpoint beyond its end") {
  const auto& t = trail_template();
  REQUIRE(t.seqs.size() >= 3);
  auto url = copy_of(t.url);
  auto keep = t.seqs[1];
  {
    pqxx::connection conn{url};
    pqxx::work w{conn};
    w.exec("SET LOCAL session_replication_role = replica");
    w.exec("DELETE FROM hitl_audit_logs WHERE seq > " + std::to_string(keep));
    // As the owner may: the partitions' heads moved back to what is left,
    // so that the chains verify on their own.
    w.exec("UPDATE hitl_partitions p SET chain_seq = coalesce(l.pseq, 0),"
           " chain_hash = coalesce(l.hash, repeat('0', 64))"
           " FROM hitl_partitions q LEFT JOIN LATERAL ("
           "   SELECT pseq, hash FROM hitl_audit_logs a"
           "   WHERE a.partition_id = q.partition_id"
           "   ORDER BY pseq DESC LIMIT 1) l ON true"
           " WHERE p.partition_id = q.partition_id");
    w.commit();
  }
  // The chains verify on their own (the decisions whose entries went do
  // not, which verify reports too).
  auto plain = verify(url);
  CHECK_MESSAGE(plain.out.find("audit chain intact") != std::string::npos,
                plain.out);
  auto r = verify(url, {"--checkpoints", t.checkpoint_file, "--public-key",
                        public_key_file(t)});
  CHECK(r.exit_code == 4);
  auto named = "line " + std::to_string(line_of(t, t.seqs[2])) + " (seq "
               + std::to_string(t.seqs[2]) + "): beyond the end of the chain";
  CHECK_MESSAGE(r.out.find(named) != std::string::npos, r.out);
  MESSAGE(r.out);
}

TEST_CASE("a forged checkpoint line is refused") {
  const auto& t = trail_template();
  auto lines = lines_of(t.checkpoint_file);
  REQUIRE(lines.size() >= 2);
  // The second line claims another head under the first line's signature.
  auto forged = json::parse(lines[1]);
  forged["hash"] = std::string(64, 'f');
  lines[1] = forged.dump();
  // The third is well signed, by another key that names the right key id.
  auto other = signing_key::generate();
  auto c = *parse_checkpoint_line(lines[2]).checkpoint;
  sign_checkpoint(c, other);
  c.key_id = json::parse(lines[2])["key_id"];
  lines[2] = to_json_line(c);
  auto file = scratch_path("forged.jsonl");
  write_lines(file, lines);
  auto r = verify(t.url, {"--checkpoints", file, "--public-key",
                          public_key_file(t)});
  CHECK(r.exit_code == 5);
  CHECK_MESSAGE(r.out.find(file + " line 2 (seq " + std::to_string(t.seqs[1])
                           + "): the signature does not verify")
                  != std::string::npos,
                r.out);
  CHECK(r.out.find(file + " line 3") != std::string::npos);
  CHECK(r.out.find("2 refused") != std::string::npos);
}

// -- export and offline verification (SPEC §11) --------------------------------

namespace {

// Output and exit code of the independent Python verifier.
command_result python_verify(const std::string& file,
                             const std::string& public_key) {
  auto cmd = std::string{"/usr/bin/python3 "} + HITL_SOURCE_DIR
             + "/tests/audit_export/verify_export.py '" + file + "' '"
             + public_key + "' 2>&1";
  command_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;)
    r.out.append(buf, n);
  auto status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

command_result export_trail(const std::string& url, const std::string& out,
                            const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"audit", "export", "--database-url", url,
                                "--out", out};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_hitl(args);
}

command_result offline_verify(const std::string& file,
                              const std::string& public_key) {
  return run_hitl({"audit", "verify", "--file", file, "--public-key",
                   public_key});
}

} // namespace

TEST_CASE("an export verifies offline with our CLI and with an independent "
          "Python verifier; both name the line that was edited") {
  const auto& t = trail_template();
  auto pub = public_key_file(t);
  auto file = scratch_path("export.jsonl");
  auto made = export_trail(t.url, file);
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  auto lines = lines_of(file);
  auto entries =
    std::stoul(sql_scalar(t.url, "SELECT count(*) FROM hitl_audit_logs"));
  REQUIRE(lines.size() == entries + t.seqs.size());
  CHECK(json::parse(lines.front())["type"] == "entry");
  CHECK(json::parse(lines.back())["type"] == "checkpoint");

  auto ours = offline_verify(file, pub);
  CHECK_MESSAGE(ours.exit_code == 0, (ours.out + ours.err));
  CHECK(ours.out.find("export intact: " + std::to_string(entries)
                      + " entries, " + std::to_string(t.seqs.size())
                      + " checkpoints")
        != std::string::npos);
  auto theirs = python_verify(file, pub);
  CHECK_MESSAGE(theirs.exit_code == 0, theirs.out);

  // One entry line edited: both name line 3.
  auto edited = lines;
  auto e = json::parse(edited[2]);
  e["performed_by"] = "mallory";
  edited[2] = e.dump();
  auto bad = scratch_path("edited.jsonl");
  write_lines(bad, edited);
  ours = offline_verify(bad, pub);
  CHECK(ours.exit_code == 2);
  CHECK_MESSAGE(ours.out.find("line 3:") != std::string::npos, ours.out);
  theirs = python_verify(bad, pub);
  CHECK(theirs.exit_code == 2);
  CHECK_MESSAGE(theirs.out.find("line 3:") != std::string::npos, theirs.out);
  MESSAGE(ours.out << theirs.out);

  // Re-sealed from there on in its partition's chain, the entries hold, but
  // the first checkpoint whose head of that chain is at or after the edit
  // does not: both name its line.
  auto edited_entry = *parse_export_entry(edited[2]).entry;
  REQUIRE(edited_entry.link);
  auto partition = edited_entry.link->partition;
  std::string prev = edited_entry.prev_hash;
  for (size_t i = 2; i < entries; ++i) {
    auto j = json::parse(edited[i]);
    auto entry = *parse_export_entry(edited[i]).entry;
    if (!entry.link || entry.link->partition != partition)
      continue;
    entry.details_json = canonical_details(j["details"]);
    seal(entry, prev);
    j["prev_hash"] = entry.prev_hash;
    j["hash"] = entry.hash;
    edited[i] = j.dump();
    prev = entry.hash;
  }
  write_lines(bad, edited);
  size_t first_after = 0;
  for (size_t i = entries; i < edited.size() && first_after == 0; ++i) {
    auto c = parse_checkpoint_line(edited[i]).checkpoint;
    REQUIRE(c);
    REQUIRE(c->heads);
    if (c->heads->partitions.at(static_cast<size_t>(partition.value)).seq
        >= edited_entry.link->pseq)
      first_after = i + 1;
  }
  REQUIRE(first_after > 0);
  ours = offline_verify(bad, pub);
  CHECK(ours.exit_code == 2);
  auto at = "line " + std::to_string(first_after) + ":";
  CHECK_MESSAGE(ours.out.find(at) != std::string::npos, ours.out);
  theirs = python_verify(bad, pub);
  CHECK(theirs.exit_code == 2);
  CHECK_MESSAGE(theirs.out.find(at) != std::string::npos, theirs.out);
}

TEST_CASE("export: a time slice with its checkpoints, and CSV") {
  const auto& t = trail_template();
  auto pub = public_key_file(t);
  auto third = sql_scalar(t.url, "SELECT to_char(\"timestamp\" AT TIME ZONE"
                                 " 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                                 " FROM hitl_audit_logs WHERE seq = 3");
  auto file = scratch_path("slice.jsonl");
  auto made = export_trail(t.url, file, {"--since", third});
  REQUIRE_MESSAGE(made.exit_code == 0, made.err);
  auto lines = lines_of(file);
  REQUIRE(!lines.empty());
  CHECK(json::parse(lines.front())["seq"] == 3);
  for (const auto& l : lines)
    if (json::parse(l)["type"] == "checkpoint")
      CHECK(json::parse(l)["seq"].get<int64_t>() >= 3);
  auto ours = offline_verify(file, pub);
  CHECK_MESSAGE(ours.exit_code == 0, ours.out);
  CHECK(python_verify(file, pub).exit_code == 0);

  auto csv = scratch_path("trail.csv");
  REQUIRE(export_trail(t.url, csv, {"--format", "csv"}).exit_code == 0);
  auto rows = lines_of(csv);
  REQUIRE(rows.size()
          == std::stoul(sql_scalar(t.url, "SELECT count(*) FROM"
                                          " hitl_audit_logs"))
               + 1);
  CHECK(rows[0] == "seq,timestamp,decision_id,action,performed_by,details,"
                   "ip_address,user_agent,prev_hash,hash,partition,pseq,"
                   "epoch");
  CHECK(rows[1].rfind("1,", 0) == 0);

  auto bad = run_hitl({"audit", "export", "--database-url", t.url,
                       "--since", "yesterday"});
  CHECK(bad.exit_code != 0);
  CHECK(bad.err.find("--since") != std::string::npos);
}

TEST_CASE("GET /hitl/audit/export streams what the CLI exports, for "
          "auditors") {
  const auto& t = trail_template();
  auto url = copy_of(t.url);
  auto auditor = issue_token(url, "audrey", "auditor");
  auto reviewer = issue_token(url, "rita", "reviewer");
  auto cli_file = scratch_path("cli.jsonl");
  REQUIRE(export_trail(url, cli_file).exit_code == 0);
  std::stringstream cli;
  cli << std::ifstream{cli_file}.rdbuf();

  served_hitl s{url};
  auto get = [&](const std::string& query, const std::string& tok) {
    return http_request("GET", s.base_url() + "/hitl/audit/export" + query,
                        {}, {"Authorization: Bearer " + tok});
  };
  auto r = get("", auditor);
  REQUIRE(r.status == 200);
  CHECK(r.headers["content-type"] == "application/x-ndjson");
  CHECK(r.headers["transfer-encoding"] == "chunked");
  CHECK(r.body == cli.str());
  auto file = scratch_file("http.jsonl", r.body);
  CHECK(offline_verify(file, public_key_file(t)).exit_code == 0);

  auto csv = get("?format=csv", auditor);
  CHECK(csv.status == 200);
  CHECK(csv.headers["content-type"] == "text/csv; charset=utf-8");
  CHECK(csv.body.rfind("seq,timestamp,decision_id,", 0) == 0);

  auto bad = get("?format=xml", auditor);
  CHECK(bad.status == 400);
  CHECK(bad.body.find("format") != std::string::npos);
  CHECK(get("?since=yesterday", auditor).status == 400);
  CHECK(get("", reviewer).status == 403);
  CHECK(http_request("GET", s.base_url() + "/hitl/audit/export").status
        == 401);
}

TEST_CASE("checkpoint_entries: signed once that many entries were appended, "
          "long before checkpoint_seconds") {
  auto url = fresh_database("hitl_ckpt_entries");
  auto key_file = scratch_path("key.pem");
  REQUIRE(key_create(key_file).exit_code == 0);
  auto cfg = scratch_file("config.json",
                          json{{"audit",
                                {{"signing_key", key_file},
                                 {"checkpoint_seconds", 3600},
                                 {"checkpoint_entries", 2}}}}
                            .dump());
  auto svc = issue_token(url, "wargaming", "service");
  served_hitl s{url, {"--config", cfg}};
  auto before = std::stoll(head_seq(url)); // the token's entry
  create(s, svc, "p-1");
  create(s, svc, "p-2");
  auto seq = head_seq(url);
  CHECK(seq == std::to_string(before + 2));
  CHECK_MESSAGE(eventually([&] { return checkpointed(url, seq); }), s.log());
}

TEST_CASE("two nodes with the key sign one checkpoint between them for "
          "each checkpoint_entries appended, each of every chain's head") {
  // Signed by entries, not by time: each node signs once the chains hold
  // checkpoint_entries more entries than the last checkpoint counts. A node
  // that counted from its own last checkpoint only would sign again right
  // after the other did; reading the table's last under the signers' lock,
  // neither does, whatever the machine's speed.
  constexpr int every = 10;
  auto url = fresh_database("hitl_ckpt_two");
  auto key_file = scratch_path("key.pem");
  auto made = key_create(key_file);
  REQUIRE(made.exit_code == 0);
  auto cfg = scratch_file("config.json",
                          json{{"audit",
                                {{"signing_key", key_file},
                                 {"checkpoint_seconds", 3600},
                                 {"checkpoint_entries", every}}}}
                            .dump());
  auto svc = issue_token(url, "wargaming", "service");
  served_hitl a{url, {"--config", cfg, "--node-id",
                      "00000000-0000-4000-8000-0000000000a1"}};
  served_hitl b{url, {"--config", cfg, "--node-id",
                      "00000000-0000-4000-8000-0000000000b1"}};
  // Each node takes the creations of its own partitions (the others answer
  // 503: no forwarding without --node-listen); one entry each. Rounds of
  // `every` creations, each waited on until a checkpoint covers it.
  auto created = [&] {
    return std::stoll(sql_scalar(url, "SELECT count(*) FROM hitl_decisions"));
  };
  auto checkpoints = [&] {
    return std::stoll(
      sql_scalar(url, "SELECT count(*) FROM hitl_audit_checkpoints"));
  };
  int n = 0;
  for (int round = 1; round <= 4; ++round) {
    while (created() < round * every && n < 10000) {
      ++n;
      for (const served_hitl* s : {&a, &b}) {
        auto r = create_decision(s->base_url(), svc,
                                 "two-" + std::to_string(n));
        CHECK((r.status == 201 || r.status == 503));
      }
    }
    REQUIRE_MESSAGE(eventually([&] { return checkpoints() >= round; }),
                    (a.log() + b.log()));
  }
  MESSAGE(checkpoints() << " checkpoints of "
                        << sql_scalar(url, "SELECT count(*) FROM"
                                           " hitl_audit_logs")
                        << " entries by two nodes");
  // No checkpoint follows the one before it by fewer entries than asked.
  CHECK(sql_scalar(url, "SELECT coalesce(min(d), " + std::to_string(every)
                          + ") >= " + std::to_string(every)
                          + " FROM (SELECT entry_count - lag(entry_count)"
                            " OVER (ORDER BY id) AS d"
                            " FROM hitl_audit_checkpoints) x")
        == "t");
  // Every checkpoint holds every chain's head, and each verifies.
  CHECK(sql_scalar(url, "SELECT count(*) FROM hitl_audit_checkpoints"
                        " WHERE heads IS NULL")
        == "0");
  auto r = verify(url, {"--public-key", public_key_file_of(made.out)});
  CHECK_MESSAGE(r.exit_code == 0, (r.out + r.err));
}
