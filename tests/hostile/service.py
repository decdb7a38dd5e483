"""The real `hitl serve` under test: its own database on the throwaway
PostgreSQL, tokens made with `hitl token create`, a config with low limits,
a free port, and a way to tell whether the process is still the one we
started."""

import json
import os
import random
import signal
import socket
import subprocess
import time

import wire

# Low where that keeps the run short or the limits reachable, SPEC §10's
# defaults otherwise. max_auth_failures and the WebSocket client limits are
# high on purpose: this test sends many bad tokens and opens many sockets,
# and a 429 from those (correct) limits would hide the answer it checks.
LIMITS = {
    "max_request_line_bytes": 4096,
    "max_header_bytes": 4096,
    "max_headers_total_bytes": 16384,
    "max_header_count": 50,
    "header_timeout_seconds": 2,
    "body_timeout_seconds": 3,
    "max_ws_message_bytes": 65536,
    "max_ws_clients": 100000,
    "max_ws_clients_per_token": 100000,
    "max_auth_failures": 1000000,
}
MAX_BODY_BYTES = 1048576
CORS_ORIGIN = "https://ui.example"

ROLES = [("wargaming", "service"), ("alice", "reviewer"), ("bob", "reviewer"),
         ("audrey", "auditor"), ("root", "admin")]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _run(cmd, what):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            what, done.returncode, done.stderr.decode(errors="replace")))
    return done.stdout.decode().strip()


class service:
    def __init__(self, binary, admin_url, pg_host, pg_port, out_dir):
        self.binary = binary
        self.admin_url = admin_url
        self.db = "hitl_hostile_%d_%d" % (os.getpid(), random.randrange(1 << 30))
        self.url = "host=%s port=%s dbname=%s user=postgres" % (
            pg_host, pg_port, self.db)
        self.out_dir = out_dir
        self.proc = None
        self.port = None
        self.first_pid = None
        self.incarnation = -1
        self.log_path = None
        self.tokens = {}
        self.config_path = os.path.join(out_dir, "config.json")

    def _psql(self, sql):
        _run(["psql", self.admin_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
             "psql " + sql)

    def prepare(self):
        self._psql("CREATE DATABASE %s" % self.db)
        _run([self.binary, "migrate", "--database-url", self.url], "hitl migrate")
        for name, role in ROLES:
            self.tokens[name] = _run(
                [self.binary, "token", "create", "--name", name, "--role", role,
                 "--database-url", self.url], "hitl token create " + name)
        with open(self.config_path, "w") as f:
            json.dump({"limits": LIMITS, "max_body_bytes": MAX_BODY_BYTES,
                       "cors_origins": [CORS_ORIGIN]}, f, indent=2)

    def start(self, ready_timeout=60.0):
        self.incarnation += 1
        self.port = free_port()
        self.log_path = os.path.join(self.out_dir,
                                     "server.%d.log" % self.incarnation)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
             "--database-url", self.url, "--config", self.config_path],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self._environment())
        log.close()
        if self.first_pid is None:
            self.first_pid = self.proc.pid
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("hitl serve exited with %d at start; see %s"
                                   % (self.proc.returncode, self.log_path))
            out = wire.exchange(self.port, b"GET /health HTTP/1.1\r\n"
                                b"Host: 127.0.0.1\r\n\r\n", timeout=5)
            if out.statuses() == [200]:
                return
            time.sleep(0.1)
        raise RuntimeError("/health never said 200 within %ds; see %s"
                           % (ready_timeout, self.log_path))

    def _environment(self):
        """The UI routes answer as in production only with a UI to serve: a
        build without it (-DHITL_BUILD_WEB=OFF) gets a stand-in, so that
        their answers are 404s for unknown files, not 503 "not built"."""
        env = dict(os.environ)
        built = os.path.join(os.path.dirname(os.path.abspath(self.binary)),
                             "web", "index.html")
        if env.get("HITL_WEB_ROOT") or os.path.isfile(built):
            return env
        root = os.path.join(self.out_dir, "web")
        os.makedirs(os.path.join(root, "assets"), exist_ok=True)
        with open(os.path.join(root, "index.html"), "w") as f:
            f.write('<!doctype html><div id="app"></div>'
                    '<script type="module" src="/assets/app.js"></script>\n')
        with open(os.path.join(root, "assets", "app.js"), "w") as f:
            f.write("export {};\n")
        env["HITL_WEB_ROOT"] = root
        return env

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def exit_description(self):
        rc = self.proc.returncode
        if rc is None:
            return "running"
        if rc < 0:
            return "killed by signal %s" % signal.Signals(-rc).name
        return "exited with status %d" % rc

    def _status_mib(self, field):
        try:
            with open("/proc/%d/status" % self.proc.pid) as f:
                for line in f:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) / 1024.0
        except (OSError, AttributeError):
            pass
        return None

    def peak_rss_mib(self):
        """VmHWM: the most memory the process ever had resident."""
        return self._status_mib("VmHWM")

    def rss_mib(self):
        return self._status_mib("VmRSS")

    def kill(self):
        """SIGKILL to the process this object started, and only to it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)

    def restart(self):
        self.stop()
        self.start()

    def drop(self):
        try:
            self._psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)
        except Exception:
            pass
