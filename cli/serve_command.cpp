// `hitl serve`: start order is schema check (and migrations) → pool →
// actors → HTTP; stop order is the reverse, each stop next to its start.

#include "cli/commands.hpp"

#include "actors/health_check.hpp"
#include "actors/membership.hpp"
#include "actors/request_timeouts.hpp"
#include "actors/router.hpp"
#include "actors/wire_protocol.hpp"
#include "actors/service.hpp"
#include "cli/json_log_formatter.hpp"
#include "cli/service_config.hpp"
#include "cli/systemd_notify.hpp"
#include "cli/systemd_readiness.hpp"
#include "http/access_log.hpp"
#include "http/server.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/migrations.hpp"
#include "persistence/signing_key_file.hpp"
#include "policy/partition.hpp"

#include <caf/all.hpp>
#include <prometheus/registry.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <thread>
#include <sys/resource.h>
#include <unistd.h>

namespace hitl {

namespace {

sigset_t block_stop_signals() {
  // Blocked before any thread starts, so every thread inherits the mask and
  // only sigwait below sees SIGINT/SIGTERM (RESTinio's own handler would
  // take only SIGINT).
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Every WebSocket client and HTTP connection is a descriptor; the soft
// limit (often 1024) is raised to what the system allows this process.
void raise_open_files_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// One log line per request: flushed one by one, each would cost a write()
// of its own, as many system calls as requests. Through stdio instead, lines
// reach a terminal at once (line-buffered) and a file or pipe in blocks, at
// the latest a second later; warnings and errors are flushed at once.
// Set before anything is logged: in JSON, every line is an object.
void buffer_log_lines(log_format format) {
  auto sink =
    std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cout, false);
  if (format == log_format::json)
    sink->set_formatter(std::make_unique<json_log_formatter>());
  auto logger = std::make_shared<spdlog::logger>("", std::move(sink));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  spdlog::flush_every(std::chrono::seconds(1));
}

// Serve connects as the runtime role, which may not change the schema:
// only with the owner's connection does it migrate (and grant itself what
// it needs); otherwise it refuses an outdated schema or missing grants and
// names the command that fixes them.
void prepare_schema(const serve_options& opts) {
  if (!opts.migrate_database_url.empty()) {
    migrate_options mo;
    mo.runtime_role = check_runtime_role(opts.database_url).user;
    mo.lenient = true;
    auto report = apply_migrations(opts.migrate_database_url, mo);
    for (const auto& name : report.applied)
      spdlog::info("applied migration {}", name);
    if (report.granted_role)
      spdlog::info("granted the runtime role '{}' what serve needs",
                   *report.granted_role);
  }
  auto check = check_runtime_role(opts.database_url);
  // A role that owns the schema is its own runtime role (and is warned
  // about below); any other is granted by name.
  auto fix = std::string{"hitl migrate --database-url OWNER_URL"}
             + (check.excess.empty() ? " --runtime-role " + check.user : "");
  if (check.schema_version < latest_schema_version() && check.missing.empty())
    throw schema_error("the database schema is at version "
                       + std::to_string(check.schema_version)
                       + " and this hitl needs version "
                       + std::to_string(latest_schema_version()) + ": run `"
                       + fix + "` (or start serve with "
                               "--migrate-database-url OWNER_URL)");
  if (!check.missing.empty()) {
    std::string what;
    for (const auto& m : check.missing)
      what += (what.empty() ? "" : ", ") + m;
    throw schema_error("role '" + check.user + "' lacks what serve needs ("
                       + what + "): run `" + fix + "`");
  }
  if (!check.excess.empty()) {
    std::string what;
    for (const auto& e : check.excess)
      what += (what.empty() ? "" : ", ") + e;
    spdlog::warn("serving as role '{}', which can rewrite the audit trail "
                 "({}): serve should connect as a runtime role of its own "
                 "(hitl migrate --runtime-role NAME; see README, "
                 "Operations)",
                 check.user, what);
  }
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0)
    return "localhost";
  return name;
}

// Serving starts once the node holds its partitions: before the
// membership's first scan the auditor would refuse every change as not
// this node's. A scan that cannot run (database away) is retried by the
// membership; serve starts anyway after 10 s and answers 503 meanwhile.
void await_first_scan(caf::actor_system& sys, const membership_actor& m) {
  caf::scoped_actor self{sys};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    bool running = false;
    self->request(m, std::chrono::seconds(10), atoms::partitions::value)
      .receive([&](const node_partitions& n) { running = n.lease_running; },
               [](const caf::error&) {});
    if (running)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  spdlog::warn("membership: no lease after 10 s; serving, but changes are "
               "refused until the node holds its partitions");
}

// ... and once the supervisor has loaded the open decisions of those
// partitions (some 10 s for a million). Should that fail, serve starts
// after two minutes anyway: requests for what is not loaded get 503.
void await_loading(caf::actor_system& sys, const supervisor_actor& s) {
  caf::scoped_actor self{sys};
  self->request(s, load_timeout, atoms::ready::value)
    .receive([](bool) {},
             [](const caf::error& e) {
               spdlog::warn("the open decisions are not loaded yet ({}); "
                            "serving, requests for them answer 503 until "
                            "they are",
                            caf::to_string(e));
             });
}

// "host:port" of `flag`; port 0 only when `any_port`.
std::pair<std::string, uint16_t> parse_host_port(const std::string& flag,
                                                 const std::string& text,
                                                 bool any_port) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    return std::invalid_argument(flag + ": expected host:port, got '" + text
                                 + "'");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw bad();
  size_t used = 0;
  unsigned long port = 0;
  try {
    port = std::stoul(text.substr(colon + 1), &used);
  } catch (const std::exception&) {
    throw bad();
  }
  if (used != text.size() - colon - 1 || port > 65535
      || (port == 0 && !any_port))
    throw bad();
  return {text.substr(0, colon), static_cast<uint16_t>(port)};
}

// The probe behind READY=1 and WATCHDOG=1: /health's round trip (the
// supervisor, the auditor and its writer's connection, a database query),
// from the calling thread, bounded by `timeout`.
readiness_probe probe_health(caf::actor_system& sys,
                             const health_check_actor& health,
                             std::chrono::milliseconds timeout) {
  readiness_probe out;
  out.detail = "no health report within " + std::to_string(timeout.count())
               + " ms";
  caf::scoped_actor self{sys};
  self->request(health, timeout, atoms::health::value)
    .receive(
      [&](const health_report& h) {
        out.ok = h.ok();
        std::string down;
        for (auto [up, name] : {std::pair{h.database, "database"},
                                std::pair{h.supervisor, "supervisor"},
                                std::pair{h.auditor, "auditor"}})
          if (!up)
            down += (down.empty() ? "" : ", ") + std::string{name};
        out.detail = down.empty() ? "healthy" : "not answering: " + down;
      },
      [&](const caf::error& e) {
        out.detail = "health check: " + caf::to_string(e);
      });
  return out;
}

} // namespace

int run_serve(const serve_options& opts) {
  auto signals = block_stop_signals();
  raise_open_files_limit();
  auto format = opts.log_format == "json" ? log_format::json : log_format::text;
  if (opts.log_format != "json" && opts.log_format != "text") {
    std::cerr << "--log-format: expected text or json, got '" << opts.log_format
              << "'\n";
    return EXIT_FAILURE;
  }
  buffer_log_lines(format);
  try {
    service_config config;
    if (!opts.config_path.empty())
      config = load_service_config(opts.config_path);
    // Before the database is touched: a key that cannot sign is a
    // configuration error (start_service reads it again to use it).
    if (!config.audit.signing_key.empty())
      read_key_file(config.audit.signing_key);
    if (!opts.node_id.empty() && !is_node_id(opts.node_id))
      throw std::invalid_argument("--node-id must be a UUID in lowercase "
                                  "(8-4-4-4-12 hex digits), not '"
                                  + opts.node_id + "'");
    http_options http;
    parse_listen(opts.listen, http);
    std::optional<std::pair<std::string, uint16_t>> node_listen;
    if (!opts.node_listen.empty())
      node_listen = parse_host_port("--node-listen", opts.node_listen, true);
    if (!opts.advertise.empty()) {
      if (!node_listen)
        throw std::invalid_argument("--advertise needs --node-listen");
      parse_host_port("--advertise", opts.advertise, false);
    }
    http.threads = opts.http_threads;
    http.max_body_bytes = config.max_body_bytes;
    http.cors_origins = config.cors_origins;
    http.limits = config.limits;
    http.access_log_format = format;
    http.log_access = opts.access_log;
    if (config.public_url.empty())
      config.public_url =
        "http://" + http.host + ":" + std::to_string(http.port);

    systemd_notify_status("checking the database schema");
    prepare_schema(opts);

    pool_options pool_opts;
    pool_opts.url = opts.database_url;
    connection_pool pool{pool_opts};
    pool.warm_up();

    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads",
          static_cast<int>(opts.scheduler_threads));
    // An idle worker skips work stealing's "moderate" phase, 500 polls with a
    // 50 µs sleep between them, and waits on its condition variable, which an
    // enqueue from another thread signals. Each of those sleeps was a context
    // switch on a machine that the service shares with PostgreSQL: about 6 %
    // of the service's CPU under a load of creations. Interleaved A/B runs:
    // creations +5 % (3 pairs), reads and escalations unchanged.
    cfg.set("work-stealing.moderate-poll-attempts", 0);
    cfg.set("logger.verbosity", caf::atom("quiet"));
    if (node_listen)
      enable_remote_actors(cfg);
    caf::actor_system sys{cfg};
    auto registry = std::make_shared<prometheus::Registry>();
    auto http_endpoint = http.host + ":" + std::to_string(http.port);
    auto node_id = opts.node_id.empty()
                     ? node_id_from(host_name() + "|" + http_endpoint)
                     : opts.node_id;
    config.node_id = node_id;
    auto actors = start_service(sys, pool, config, registry,
                                open_decisions::from_membership);
    membership_options member_opts;
    // With --node-listen: a gateway for the other nodes, and a router in
    // front of the supervisor that sends each request to the node that
    // holds its partition.
    decision_service front = actors.supervisor;
    decision_service gateway;
    router_actor router;
    std::string node_endpoint;
    if (node_listen) {
      gateway = spawn_gateway(sys, actors.supervisor);
      auto port = publish_gateway(sys, gateway, node_listen->first,
                                  node_listen->second);
      node_endpoint = opts.advertise.empty()
                        ? node_listen->first + ":" + std::to_string(port)
                        : opts.advertise;
      router = spawn_router(sys, router_options{node_id, actors.supervisor,
                                                std::chrono::seconds(5),
                                                actor_failures{registry}});
      front = router;
      member_opts.map_listeners = {router};
      spdlog::info("other nodes reach this one at {}", node_endpoint);
    }
    member_opts.identity =
      node_identity{node_id, node_endpoint, http_endpoint,
                    config.policy.version(), wire_version};
    member_opts.registry = registry;
    member_opts.failures = actor_failures{registry};
    member_opts.listeners = {actors.auditor, actors.supervisor};
    auto membership = spawn_membership(sys, pool, std::move(member_opts));
    systemd_notify_status("waiting for this node's partitions");
    await_first_scan(sys, membership);
    systemd_notify_status("loading the open decisions");
    await_loading(sys, actors.supervisor);
    // The node leaves after its last commit: what it wrote is in before
    // another node may take its partitions over.
    auto stop_actors = [&] {
      for (auto a : {caf::actor_cast<caf::actor>(router),
                     caf::actor_cast<caf::actor>(gateway)})
        if (a)
          caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      stop_service(sys, actors);
      leave_cluster(sys, membership);
    };

    std::unique_ptr<http_server> server;
    try {
      server = start_http_server(
        http, sys,
        http_backend{front, actors.reader, actors.auditor, actors.feed,
                     actors.positions, registry, config.public_url, actors.changes,
                     actors.audit_public_key_pem, membership,
                     actors.audience});
    } catch (...) {
      stop_actors();
      throw;
    }
    spdlog::info("serving on http://{}:{} (policy {}, node {})", http.host,
                 http.port, config.policy.version(), node_id);
    // A health check of its own (the same actor as /health's, sharing its
    // probe counter), so that systemd's probes do not depend on the HTTP
    // front end's internals.
    auto health = spawn_health_check(sys, front, actors.auditor,
                                     actors.reader, membership, registry);
    auto readiness = std::make_unique<systemd_readiness>(
      [&sys, health](std::chrono::milliseconds timeout) {
        return probe_health(sys, health, timeout);
      },
      "serving on http://" + http_endpoint + " (node " + node_id + ")");

    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {}: shutting down", sig);
    readiness->stopping();
    readiness.reset();
    caf::anon_send_exit(health, caf::exit_reason::user_shutdown);
    server->stop();
    stop_actors();
    return EXIT_SUCCESS;
  } catch (const schema_error& e) {
    spdlog::error("{}", e.what());
    systemd_notify_status(std::string{"failed: "} + e.what());
  } catch (const db_error& e) {
    spdlog::error("database {}: {}", to_string(e.code), e.what());
    systemd_notify_status(std::string{"failed: database "} + e.what());
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    systemd_notify_status(std::string{"failed: "} + e.what());
  }
  return EXIT_FAILURE;
}

} // namespace hitl
