#include "tests/pg/pg_fixture.hpp"
#include "tests/pg/scratch_files.hpp"

#include "persistence/migrations.hpp"

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace hitl::test {

namespace {

// The databases this run created. They are dropped when the run ends: left
// behind, hundreds of them slow the developer's PostgreSQL down (the
// autovacuum launcher starts a worker in each, in turn). Set
// HITL_TEST_KEEP_DATABASES=1 to keep them for a post-mortem.
struct created_databases {
  std::mutex mutex;
  std::vector<std::string> names;

  ~created_databases() {
    if (names.empty() || std::getenv("HITL_TEST_KEEP_DATABASES") != nullptr)
      return;
    try {
      pqxx::connection conn{std::getenv("HITL_TEST_DATABASE_URL")};
      pqxx::nontransaction q{conn};
      for (const auto& name : names)
        q.exec("DROP DATABASE IF EXISTS " + q.quote_name(name)
               + " WITH (FORCE)");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "could not drop the test databases: %s\n",
                   e.what());
    }
  }
};

created_databases& created() {
  static created_databases all;
  return all;
}

std::string env_or_fail(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v)
    throw std::runtime_error(std::string{name}
                             + " is not set: run the tests with deploy/test");
  return v;
}

std::string read_file(const std::string& path) {
  std::string out;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
      out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

size_t collect(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

size_t collect_header(char* p, size_t size, size_t n, void* user) {
  std::string line(p, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' '))
      value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n'))
      value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

} // namespace

std::string admin_url() {
  return env_or_fail("HITL_TEST_DATABASE_URL");
}

std::string fresh_database(const std::string& prefix,
                           const std::string& options) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  auto name = prefix + "_" + std::to_string(getpid()) + "_"
              + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
  pqxx::connection conn{admin_url()};
  pqxx::nontransaction q{conn};
  q.exec("CREATE DATABASE " + q.quote_name(name) + " " + options);
  {
    std::lock_guard<std::mutex> lock{created().mutex};
    created().names.push_back(name);
  }
  auto host = env_or_fail("HITL_TEST_PG_HOST");
  auto port = env_or_fail("HITL_TEST_PG_PORT");
  return "host=" + host + " port=" + port + " dbname=" + name
         + " user=postgres";
}

namespace {

// Once per run; a concurrent run may create it first.
void ensure_test_runtime_role() {
  static std::once_flag once;
  std::call_once(once, [] {
    pqxx::connection conn{admin_url()};
    pqxx::nontransaction q{conn};
    auto role = q.quote_name(test_runtime_role);
    q.exec("DO $$ BEGIN CREATE ROLE " + role
           + "; EXCEPTION WHEN duplicate_object OR unique_violation"
             " THEN NULL; END $$");
    q.exec("ALTER ROLE " + role + " LOGIN PASSWORD 'runtime-secret'");
  });
}

} // namespace

void migrate_up_to(const std::string& url, int last_version) {
  pqxx::connection conn{url};
  pqxx::work txn{conn};
  txn.exec("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
           " name text NOT NULL,"
           " applied_at timestamptz NOT NULL DEFAULT now())");
  for (const auto& m : hitl::embedded_migrations()) {
    if (m.version > last_version)
      break;
    txn.exec(m.sql);
    txn.exec_params("INSERT INTO schema_migrations (version, name)"
                    " VALUES ($1, $2)",
                    m.version, m.name);
  }
  txn.commit();
}

std::string runtime_url(const std::string& owner_url) {
  ensure_test_runtime_role();
  const std::string owner = " user=postgres";
  auto at = owner_url.rfind(owner);
  if (at == std::string::npos || at + owner.size() != owner_url.size())
    throw std::runtime_error("not a URL of fresh_database: " + owner_url);
  return owner_url.substr(0, at) + " user=" + test_runtime_role
         + " password=runtime-secret";
}

std::string migrated_database(const std::string& prefix) {
  auto url = fresh_database(prefix);
  ensure_test_runtime_role();
  migrate_options opts;
  opts.runtime_role = test_runtime_role;
  apply_migrations(url, opts);
  return url;
}

std::string sql_scalar(const std::string& url, const std::string& sql) {
  pqxx::connection conn{url};
  pqxx::nontransaction q{conn};
  auto r = q.exec(sql);
  if (r.empty() || r[0][0].is_null())
    return {};
  return r[0][0].as<std::string>();
}

void sql_exec(const std::string& url, const std::string& sql) {
  pqxx::connection conn{url};
  pqxx::nontransaction q{conn};
  q.exec(sql);
}

void pg_ctl(const std::string& action) {
  auto cmd = env_or_fail("HITL_TEST_PG_CTL") + " " + action;
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("failed: " + cmd);
}

bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds ceiling) {
  auto deadline = std::chrono::steady_clock::now() + ceiling;
  for (;;) {
    if (condition())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

namespace {

int spawn(const std::vector<std::string>& args, const std::string& out_path,
          const std::string& err_path) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(HITL_BINARY));
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, HITL_BINARY, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0)
    throw std::runtime_error("cannot start " HITL_BINARY);
  return pid;
}

} // namespace

command_result run_hitl(const std::vector<std::string>& args) {
  auto out = scratch_path("hitl.out"), err = scratch_path("hitl.err");
  int pid = spawn(args, out, err);
  int status = 0;
  waitpid(pid, &status, 0);
  command_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  return r;
}

served_hitl::served_hitl(const std::string& database_url,
                         const std::vector<std::string>& extra_args,
                         serve_as how) {
  port_ = free_port();
  std::vector<std::string> args{"serve", "--listen",
                                "127.0.0.1:" + std::to_string(port_)};
  if (how == serve_as::runtime_role) {
    args.insert(args.end(), {"--database-url", runtime_url(database_url),
                             "--migrate-database-url", database_url});
  } else {
    args.insert(args.end(), {"--database-url", database_url});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  log_path_ = scratch_path("serve.log");
  pid_ = spawn(args, log_path_, log_path_);
  // Ready when /health answers at all (200 or 503).
  for (int i = 0; i < 300; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("hitl serve exited at start: " + log());
    }
    if (http_request("GET", base_url() + "/health").status != 0)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("hitl serve did not answer within 15 s");
}

served_hitl::~served_hitl() {
  if (pid_ > 0 && terminate(std::chrono::seconds(10)) == -1) {
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string served_hitl::log() const {
  return read_file(log_path_);
}

std::string served_hitl::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void served_hitl::kill_hard() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int served_hitl::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

http_response http_request(const std::string& method, const std::string& url,
                           const std::string& body,
                           const std::vector<std::string>& headers) {
  http_response resp;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& h : headers)
    list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 70L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp.headers);
  if (curl_easy_perform(curl) == CURLE_OK)
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return resp;
}

std::string issue_token(const std::string& url, const std::string& name,
                        const std::string& role) {
  auto r = run_hitl({"token", "create", "--name", name, "--role", role,
                     "--database-url", url});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out.substr(0, r.out.find('\n'));
}

http_response create_decision(const std::string& base_url,
                              const std::string& token,
                              const std::string& patch) {
  auto body = R"({"patch_id":")" + patch
              + R"(","patch_metadata":{"apv_id":"apv-1","cve_id":)"
                R"("CVE-2026-7777","package_name":"nginx",)"
                R"("current_version":"1.24.0","target_version":"1.24.1",)"
                R"("severity":"medium"},"ml_prediction":{"confidence":0.5,)"
                R"("prediction":true}})";
  return http_request("POST", base_url + "/hitl/admin/create-decision", body,
                      {"Authorization: Bearer " + token,
                       "Content-Type: application/json"});
}

} // namespace hitl::test
