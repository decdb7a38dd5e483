"""Every metric the rules read is one a running `hitl serve` exports: a
fresh database on the test PostgreSQL, `hitl migrate`, a service token, one
creation (so that http_requests_total has a series), then GET /metrics.
Checks each metric name in the rules' expressions (histograms by their
_bucket series), and each `label="value"` matcher, against the exposition;
a renamed metric or label value fails it. Prints what it found and exits 1
on any missing name. Bounded: about 10 s, 60 s at most for the start."""

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

START_TIMEOUT = 60  # seconds for /health to answer 200
# What is not a metric name in an expression.
PROMQL_WORDS = {
    "sum", "by", "on", "and", "or", "unless", "without", "increase", "rate",
    "histogram_quantile", "group", "last_over_time", "ignoring",
    "group_left", "group_right", "offset", "bool",
}
# Prometheus's own, not the service's.
SCRAPE_SERIES = {"up"}
SELECTOR = re.compile(r"(?<![\w:])([a-zA-Z_][\w]*)(?![\w:])\s*(\{[^}]*\})?")
EQUALITY = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
LITERAL_REGEX = re.compile(r'(\w+)\s*=~\s*"([\w|]+)"')


def used_in_rules(rules_path):
    """{metric name: [(label, value), ...]} over all expressions."""
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    used = {}
    for g in rules["groups"]:
        for r in g["rules"]:
            expr = re.sub(r"\[[^\]]*\]", "", r["expr"])  # range durations
            expr = re.sub(r"\b(by|on|without|ignoring)\s*\([^)]*\)", "",
                          expr)  # label lists
            expr = re.sub(r'"[^"]*"', lambda m: m.group(0).replace(
                " ", "_"), expr)
            for name, matchers in SELECTOR.findall(expr):
                if name in PROMQL_WORDS or name in SCRAPE_SERIES:
                    continue
                pairs = EQUALITY.findall(matchers or "")
                # label=~"a|b" of plain words: each must exist.
                for label, alts in LITERAL_REGEX.findall(matchers or ""):
                    pairs += [(label, a) for a in alts.split("|")]
                used.setdefault(name, []).extend(pairs)
    return used


def exposed(text):
    """{series name: [label dicts]} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s", line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out.setdefault(m.group(1), []).append(labels)
    return out


def run(cmd):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            " ".join(cmd[:3]), done.returncode, done.stderr.decode()))
    return done.stdout.decode().strip()


def http(method, url, token=None, body=None):
    req = urllib.request.Request(url, method=method, data=body)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if body:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape_live_service(binary, admin_url, host, port, log_path):
    db = "hitl_rules_%d_%d" % (os.getpid(), random.randrange(1 << 30))
    url = "host=%s port=%s dbname=%s user=postgres" % (host, port, db)
    run(["psql", admin_url, "-q", "-v", "ON_ERROR_STOP=1",
         "-c", "CREATE DATABASE %s" % db])
    proc = None
    try:
        run([binary, "migrate", "--database-url", url])
        token = run([binary, "token", "create", "--name", "wargaming",
                     "--role", "service", "--database-url", url])
        listen = free_port()
        base = "http://127.0.0.1:%d" % listen
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [binary, "serve", "--listen", "127.0.0.1:%d" % listen,
                 "--database-url", url],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError("hitl serve exited with %d; see %s"
                                   % (proc.returncode, log_path))
            try:
                if http("GET", base + "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("no 200 from /health in %d s; see %s"
                                   % (START_TIMEOUT, log_path))
            time.sleep(0.1)
        record = {
            "patch_id": "p-rules",
            "patch_metadata": {"apv_id": "a", "package_name": "openssl",
                               "current_version": "1", "target_version": "2",
                               "severity": "high"},
            "ml_prediction": {"confidence": 0.3, "prediction": True},
            "wargaming_result": {"phase1_success": True,
                                 "phase2_success": True,
                                 "validation_passed": True}}
        status, body = http("POST", base + "/hitl/admin/create-decision",
                            token, json.dumps(record).encode())
        if status != 201:
            raise RuntimeError("create-decision answered %d: %s"
                               % (status, body))
        status, text = http("GET", base + "/metrics")
        if status != 200:
            raise RuntimeError("/metrics answered %d" % status)
        return text
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        subprocess.run(["psql", admin_url, "-q", "-c",
                        "DROP DATABASE IF EXISTS %s" % db],
                       stdout=subprocess.DEVNULL, timeout=60)


def missing(used, series):
    out = []
    for name, pairs in sorted(used.items()):
        if name not in series:
            out.append("%s: not exported" % name)
            continue
        for label, value in pairs:
            if not any(s.get(label) == value for s in series[name]):
                out.append('%s{%s="%s"}: no such series'
                           % (name, label, value))
    return out


def main(rules_path, out_dir):
    used = used_in_rules(rules_path)
    if not used:
        print("no metric names found in %s" % rules_path)
        return 1
    os.makedirs(out_dir, exist_ok=True)
    text = scrape_live_service(
        os.environ["HITL_BINARY"], os.environ["HITL_TEST_DATABASE_URL"],
        os.environ["HITL_TEST_PG_HOST"], os.environ["HITL_TEST_PG_PORT"],
        os.path.join(out_dir, "server.log"))
    with open(os.path.join(out_dir, "metrics.txt"), "w") as f:
        f.write(text)
    problems = missing(used, exposed(text))
    for name in sorted(used):
        print("  %s %s" % (name, sorted(set(used[name])) or ""))
    for p in problems:
        print("FAIL " + p)
    print("live /metrics: %d metric names of the rules checked, %d missing"
          % (len(used), len(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
