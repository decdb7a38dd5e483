"""The pieces of the backup test that run things: commands, psql, a
`hitl serve` as the runtime role, its config, and `hitl audit verify`."""

import json
import signal
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cluster"))
from harness import free_port, request  # noqa: E402

SLA_HIGH = 2.0        # passes while no service runs (between dump and restore)
SLA_MEDIUM = 40.0     # passes after the restored node started
REPEAT = 2.0
MAX_LEVEL = 3


def run(cmd, what):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            what, done.returncode, done.stderr.decode(errors="replace")))
    return done.stdout.decode().strip()


def conninfo(port, db, user):
    return "host=127.0.0.1 port=%d dbname=%s user=%s" % (port, db, user)


def psql(url, sql):
    return run(["psql", url, "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql],
               "psql")


class service:
    """One `hitl serve` as the runtime role."""

    def __init__(self, binary, url, config, log_path):
        self.port = free_port()
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
                 "--database-url", url, "--config", config],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if request(self.port, "GET", "/health", timeout=5)[0] == 200:
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def write_config(path, key, checkpoint_file, hook_url):
    with open(path, "w") as f:
        json.dump({"sla_seconds": {"high": SLA_HIGH, "medium": SLA_MEDIUM},
                   "escalation": {"max_level": MAX_LEVEL,
                                  "repeat_seconds": REPEAT},
                   "audit": {"signing_key": key, "checkpoint_seconds": 0.5,
                             "checkpoint_file": checkpoint_file},
                   "webhooks": [{"url": hook_url,
                                 "events": ["decision.escalated"],
                                 "secret": "s3cret"}],
                   "notifications": {"max_attempts": 1000,
                                     "timeout_seconds": 2,
                                     "initial_backoff_seconds": 0.2,
                                     "max_backoff_seconds": 0.5}}, f)


def verify(binary, url, *extra):
    done = subprocess.run([binary, "audit", "verify", "--database-url", url]
                          + list(extra), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120)
    return done.returncode, done.stdout.decode(errors="replace")


