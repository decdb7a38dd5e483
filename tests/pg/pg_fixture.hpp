#pragma once

// Test support for tests/pg: a fresh database per test on the PostgreSQL
// that deploy/test started, the `hitl` binary as a child process, and HTTP.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace hitl::test {

/// The admin connection string from HITL_TEST_DATABASE_URL; fails the test
/// run when it is not set (deploy/test always sets it).
std::string admin_url();

/// Creates an empty database with a unique name; returns its URL.
/// `options` follow CREATE DATABASE's name (e.g. another ENCODING).
std::string fresh_database(const std::string& prefix = "hitl_test",
                           const std::string& options = "");

/// Creates a fresh database and applies the migrations to it, granting
/// `test_runtime_role` what serve needs, as `hitl migrate` does.
std::string migrated_database(const std::string& prefix = "hitl_test");

/// Applies the embedded migrations up to `last_version` to an empty
/// database, as `hitl migrate` of the release that ended there did: the
/// starting point of a test of the migrations after it.
void migrate_up_to(const std::string& url, int last_version);

/// The role that the tests run serve and the in-process service as: not the
/// owner, with LOGIN and a password (SPEC §11). It is created once in the
/// test cluster; `hitl migrate --runtime-role` grants it per database.
inline constexpr const char* test_runtime_role = "hitl_test_runtime";

/// The URL of a database of `fresh_database` (the owner's URL) as the
/// runtime role.
std::string runtime_url(const std::string& owner_url);

/// Runs `psql`-like SQL through libpqxx as the superuser; returns the first
/// column of the first row (empty for none).
std::string sql_scalar(const std::string& url, const std::string& sql);
void sql_exec(const std::string& url, const std::string& sql);

/// Stops, starts or restarts the test PostgreSQL (deploy/pg-ctl).
void pg_ctl(const std::string& action);

/// Polls `condition` every 20 ms until it holds (true) or `ceiling` passes
/// (false). Tests wait for a state this way, with a ceiling generous enough
/// for a machine that is busy, never for a fixed time.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds ceiling = std::chrono::seconds(30));

/// A TCP port that was free a moment ago.
int free_port();

/// Output and exit code of `hitl ARGS...`.
struct command_result {
  int exit_code = -1;
  std::string out;
  std::string err;
};
command_result run_hitl(const std::vector<std::string>& args);

/// A bearer token made with `hitl token create` (the owner's URL).
std::string issue_token(const std::string& url, const std::string& name,
                        const std::string& role);

/// How served_hitl connects `hitl serve` to its database.
enum class serve_as {
  /// As in production: `--database-url` of the runtime role, and the
  /// owner's URL as `--migrate-database-url`, so serve migrates at start.
  runtime_role,
  /// Only `--database-url` with the URL given.
  given_url,
};

/// `hitl serve` in the background, stopped (SIGTERM) on destruction.
class served_hitl {
public:
  /// `database_url` is the owner's (from fresh_database).
  served_hitl(const std::string& database_url,
              const std::vector<std::string>& extra_args = {},
              serve_as how = serve_as::runtime_role);
  ~served_hitl();
  served_hitl(const served_hitl&) = delete;
  served_hitl& operator=(const served_hitl&) = delete;

  std::string base_url() const;
  int port() const {
    return port_;
  }
  int pid() const {
    return pid_;
  }
  /// What the server has written to stdout and stderr so far.
  std::string log() const;
  /// Sends SIGTERM and waits; returns the exit status, or -1 on timeout.
  int terminate(std::chrono::milliseconds timeout);
  /// SIGKILL: a crash, with no chance to finish anything.
  void kill_hard();

private:
  int pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

struct http_response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers; // lower-case names
};

http_response http_request(const std::string& method, const std::string& url,
                           const std::string& body = {},
                           const std::vector<std::string>& headers = {});

/// POST /hitl/admin/create-decision of a medium patch `patch` that the
/// policy leaves pending (confidence 0.5, no wargaming result).
http_response create_decision(const std::string& base_url,
                              const std::string& token,
                              const std::string& patch);

} // namespace hitl::test
