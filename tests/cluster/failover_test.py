"""The failover test (SPEC §8, issue 20): three real `hitl serve` nodes on
loopback share one database and forward to each other (--node-listen);
short SLAs; a webhook receiver; creations, verdicts and comments sent to
all three nodes from several threads, every acknowledged answer logged;
one node killed with SIGKILL in the middle of it. Then:

- every acknowledged write is in the database (creations, approvals,
  comments);
- no (decision, level) escalated twice in the audit log, nor delivered
  twice under different delivery ids, and every escalation delivered;
- every open decision at the escalation level its deadline calls for, once
  the survivors have taken over (waited for, bounded);
- `hitl audit verify` passes;
- the survivors held every partition again (within 60 s; the time is
  printed beside the issue's 10 s target, which is the 6 s lease plus one
  1.5 s scan and some slack).

Each run is one seed: which node dies, when, and the load's choices.
Standard library only. Usage: failover_test.py --seed N [--out DIR]
"""

import argparse
import http.client
import http.server
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

SLA_HIGH = 3          # seconds to the first escalation of a high decision
REPEAT = 3            # seconds between levels
MAX_LEVEL = 3
LOAD_SECONDS = 20
TAKEOVER_TARGET = 10.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(cmd, what):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (
            what, done.returncode, done.stderr.decode(errors="replace")))
    return done.stdout.decode().strip()


def request(port, method, path, body=None, token=None, timeout=30):
    """(status, parsed JSON or None); status 0 when the node did not answer
    (refused, reset, timed out)."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(method, path, body=json.dumps(body) if body is not None
                     else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
    except (OSError, http.client.HTTPException):
        return 0, None
    try:
        return resp.status, json.loads(data) if data else None
    except ValueError:
        return resp.status, None


class receiver:
    """Records every webhook: (delivery id, event, decision id, level)."""

    def __init__(self):
        hooks = self.hooks = []
        lock = self.lock = threading.Lock()

        class handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(n) or b"{}")
                esc = body.get("escalation") or {}
                with lock:
                    hooks.append((self.headers.get("X-HITL-Delivery"),
                                  self.headers.get("X-HITL-Event"),
                                  esc.get("decision_id"), esc.get("level")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class server(http.server.ThreadingHTTPServer):
            # The standard library's backlog of 5 drops the SYNs of a
            # notifier's round (64 at once per node) after a takeover; each
            # dropped one waits out a retransmission and its round the
            # webhook timeout, and deliveries fall to ~30/s. Real receivers
            # listen with hundreds (nginx: 511).
            request_queue_size = 512

        self.server = server(("127.0.0.1", 0), handler)
        self.url = "http://127.0.0.1:%d/hooks" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self):
        with self.lock:
            return list(self.hooks)


class node:
    def __init__(self, binary, url, config, out_dir, index):
        self.index = index
        self.id = "00000000-0000-4000-8000-%012d" % (index + 1)
        self.port = free_port()
        self.node_port = free_port()
        self.log_path = os.path.join(out_dir, "node%d.log" % index)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
             "--database-url", url, "--config", config,
             "--node-id", self.id,
             "--node-listen", "127.0.0.1:%d" % self.node_port],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("node %d exited at start; see %s"
                                   % (self.index, self.log_path))
            if request(self.port, "GET", "/health", timeout=5)[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("node %d never answered /health" % self.index)

    def alive(self):
        return self.proc.poll() is None

    def owned(self):
        status, _ = request(self.port, "GET", "/health", timeout=5)
        if status != 200:
            return None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        for line in text.splitlines():
            if line.startswith("hitl_partitions_owned"):
                return int(float(line.split()[-1]))
        return None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class ledger:
    """What the nodes acknowledged, from every worker."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}       # decision id -> patch
        self.approved = set()   # decision ids
        self.comments = []      # (decision id, text)
        self.unavailable = 0    # 503 or no answer, not acknowledged

    def add(self, kind, *xs):
        with self.lock:
            if kind == "created":
                self.created[xs[0]] = xs[1]
            elif kind == "approved":
                self.approved.add(xs[0])
            elif kind == "comment":
                self.comments.append((xs[0], xs[1]))
            else:
                self.unavailable += 1


def worker(seed, w, nodes, tokens, book, stop_at):
    rng = random.Random(seed * 1000 + w)
    open_here = []   # (patch, id) acknowledged open, made by this worker
    mine = []        # every (patch, id) this worker had acknowledged
    n = 0
    while time.monotonic() < stop_at:
        live = [x for x in nodes if x.alive()]
        to = rng.choice(live)
        roll = rng.random()
        if roll < 0.6 or not mine:
            n += 1
            patch = "s%d-w%d-%d" % (seed, w, n)
            severity = rng.choice(["high", "low"])
            status, body = request(to.port, "POST",
                                   "/hitl/admin/create-decision",
                                   {"patch_id": patch,
                                    "patch_metadata": {
                                        "apv_id": "apv-%d" % n,
                                        "package_name": "openssl",
                                        "current_version": "1",
                                        "target_version": "2",
                                        "severity": severity},
                                    "ml_prediction": {"confidence": 0.3,
                                                      "prediction": True}},
                                   tokens["wargaming"])
            if status in (200, 201):
                book.add("created", body["decision_id"], patch)
                open_here.append((patch, body["decision_id"]))
                mine.append((patch, body["decision_id"]))
            else:
                book.add("unavailable")
        elif roll < 0.85 and open_here:
            patch, did = open_here.pop(rng.randrange(len(open_here)))
            status, body = request(to.port, "POST",
                                   "/hitl/patches/%s/approve" % patch,
                                   {"decision_id": did}, tokens["alice"])
            if status == 200:
                book.add("approved", did)
            else:
                # 503: its outcome may be unknown; it is not tried again.
                book.add("unavailable")
        else:
            patch, did = rng.choice(mine)
            text = "c-%d-%d-%d" % (seed, w, n)
            n += 1
            status, _ = request(to.port, "POST",
                                "/hitl/patches/%s/comment" % patch,
                                {"decision_id": did, "comment": text},
                                tokens["bob"])
            if status in (200, 201):
                book.add("comment", did, text)
            else:
                book.add("unavailable")


def psql(admin_url, sql):
    return run(["psql", admin_url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c",
                sql], "psql")


def eventually(check, timeout):
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    seed = args.seed
    rng = random.Random(seed)
    binary = os.environ["HITL_BINARY"]
    admin = os.environ["HITL_TEST_DATABASE_URL"]
    host = os.environ["HITL_TEST_PG_HOST"]
    port = os.environ["HITL_TEST_PG_PORT"]
    out_dir = args.out or os.path.join(os.getcwd(), "failover-%d" % seed)
    os.makedirs(out_dir, exist_ok=True)
    db = "hitl_failover_%d_%d" % (seed, os.getpid())
    url = "host=%s port=%s dbname=%s user=postgres" % (host, port, db)
    db_url = "host=%s port=%s dbname=%s user=postgres" % (host, port, db)
    psql(admin, "CREATE DATABASE %s" % db)
    failures = []
    nodes = []
    try:
        run([binary, "migrate", "--database-url", url], "hitl migrate")
        tokens = {}
        for name, role in [("wargaming", "service"), ("alice", "reviewer"),
                           ("bob", "reviewer")]:
            tokens[name] = run([binary, "token", "create", "--name", name,
                                "--role", role, "--database-url", url],
                               "token").splitlines()[0]
        hooks = receiver()
        config = os.path.join(out_dir, "config.json")
        with open(config, "w") as f:
            json.dump({"sla_seconds": {"high": SLA_HIGH},
                       "escalation": {"max_level": MAX_LEVEL,
                                      "repeat_seconds": REPEAT},
                       "webhooks": [{"url": hooks.url,
                                     "events": ["decision.escalated"],
                                     "secret": "s3cret"}],
                       "notifications": {"max_attempts": 1000,
                                         "timeout_seconds": 2,
                                         "initial_backoff_seconds": 0.2,
                                         "max_backoff_seconds": 0.5}}, f)
        nodes = [node(binary, url, config, out_dir, i) for i in range(3)]
        for x in nodes:
            x.wait_ready()

        book = ledger()
        start = time.monotonic()
        stop_at = start + LOAD_SECONDS
        threads = [threading.Thread(target=worker,
                                    args=(seed, w, nodes, tokens, book,
                                          stop_at))
                   for w in range(6)]
        for t in threads:
            t.start()
        victim = nodes[rng.randrange(3)]
        time.sleep(rng.uniform(6, 10))
        killed_db = psql(db_url, "SELECT now()")
        killed_at = time.monotonic()
        victim.proc.kill()
        victim.proc.wait()
        held = psql(db_url, "SELECT string_agg(partition_id::text, ',')"
                            " FROM hitl_partitions WHERE owner_node = '%s'"
                            % victim.id) or "-1"
        # Re-owned: each partition the victim held has a live owner again.
        # (Partitions handed between the survivors meanwhile are ownerless
        # for up to a scan, so "the survivors hold 256" is no measure.)
        took = None
        if eventually(lambda: psql(
                db_url, "SELECT count(*) FROM hitl_partitions p LEFT JOIN"
                        " hitl_nodes n ON n.node_id = p.owner_node AND"
                        " n.lease_until > now() WHERE p.partition_id IN (%s)"
                        " AND (n.node_id IS NULL OR p.owner_node = '%s')"
                        % (held, victim.id)) == "0", 60):
            took = time.monotonic() - killed_at
        for t in threads:
            t.join()
        print("seed %d: killed node %d %.1f s into the load; the %s "
              "partitions it held had live owners again %s after the kill"
              % (seed, victim.index, killed_at - start,
                 len(held.split(",")) if held != "-1" else 0,
                 "%.2f s" % took if took is not None else "never"))
        # The time is the target, reported, not a verdict: a test's
        # verdict must not depend on the machine's speed.
        if took is None:
            failures.append("the killed node's partitions were never taken")
        elif took > TAKEOVER_TARGET:
            print("seed %d: NOTE the takeover took longer than the %.0f s "
                  "target" % (seed, TAKEOVER_TARGET))

        # The nodes started together: one scan at a time, so the first
        # takes all 256 and the others are handed their shares (two nodes
        # that each took all 256 at once: the race that lock_membership
        # closes).
        took_all = 0
        for x in nodes:
            with open(x.log_path, errors="replace") as f:
                took_all += "took 256 partition(s)" in f.read()
        if took_all != 1:
            failures.append("%d nodes took all 256 partitions" % took_all)

        # Every acknowledged write is there.
        rows = psql(db_url, "SELECT decision_id, patch_id, decision FROM"
                            " hitl_decisions")
        stored = {}
        for line in rows.splitlines():
            did, patch, state = line.split("|")
            stored[did] = (patch, state)
        lost = [d for d, p in book.created.items()
                if stored.get(d, (None,))[0] != p]
        if lost:
            failures.append("%d acknowledged creations missing: %s"
                            % (len(lost), lost[:5]))
        unapproved = [d for d in book.approved
                      if stored.get(d, (None, None))[1] != "approved"]
        if unapproved:
            failures.append("%d acknowledged approvals missing: %s"
                            % (len(unapproved), unapproved[:5]))
        texts = set(psql(db_url, "SELECT decision_id || '|' || comment FROM"
                                 " hitl_comments").splitlines())
        missing = [c for c in book.comments if "%s|%s" % c not in texts]
        if missing:
            failures.append("%d acknowledged comments missing: %s"
                            % (len(missing), missing[:5]))

        # Every open decision at its due level, once the survivors caught up
        # (a level that fell due in the last 2 s may still be committing).
        due_sql = """
          WITH d AS (
            SELECT decision_id, escalation_level AS level,
              CASE WHEN sla_deadline IS NULL OR now() < sla_deadline THEN 0
                   ELSE least(%d, 1 + floor(extract(epoch FROM
                     now() - sla_deadline) / %d)::int) END AS due_now,
              CASE WHEN sla_deadline IS NULL
                     OR now() - interval '2 seconds' < sla_deadline THEN 0
                   ELSE least(%d, 1 + floor(extract(epoch FROM
                     now() - interval '2 seconds' - sla_deadline) / %d)::int)
                   END AS due_before
            FROM hitl_decisions WHERE hitl_decision_is_open(decision))
          SELECT count(*) FILTER (WHERE level < due_before OR level > due_now)
          FROM d""" % (MAX_LEVEL, REPEAT, MAX_LEVEL, REPEAT)
        if not eventually(lambda: psql(db_url, due_sql) == "0", 60):
            failures.append("open decisions off their due level: %s" %
                            psql(db_url, due_sql))

        # Then each reaches the last level (9 s after its creation): from
        # then on nothing escalates, and the log and the deliveries can be
        # compared whole.
        if not eventually(lambda: psql(
                db_url, "SELECT count(*) FROM hitl_decisions WHERE"
                        " hitl_decision_is_open(decision) AND sla_deadline"
                        " IS NOT NULL AND escalation_level < %d" % MAX_LEVEL)
                == "0", 60):
            failures.append("open decisions short of level %d" % MAX_LEVEL)
        twice = psql(db_url, "SELECT count(*) FROM (SELECT decision_id,"
                             " details::jsonb ->> 'level' FROM"
                             " hitl_audit_logs WHERE action = 'escalated'"
                             " GROUP BY 1, 2 HAVING count(*) > 1) x")
        if twice != "0":
            failures.append("%s (decision, level) escalated twice" % twice)
        logged = set()
        for line in psql(db_url, "SELECT decision_id || '|' || (details::jsonb"
                                 " ->> 'level') FROM hitl_audit_logs WHERE"
                                 " action = 'escalated'").splitlines():
            did, level = line.split("|")
            logged.add((did, int(level)))
        escalations = len(logged)
        if not eventually(lambda: psql(
                db_url, "SELECT count(*) FROM hitl_outbox WHERE state <>"
                        " 'delivered'") == "0", 60):
            failures.append("webhooks left undelivered")
            with open(os.path.join(out_dir, "outbox-undelivered.txt"), "w") as f:
                f.write(psql(db_url, "SELECT id, delivery_id, decision_id,"
                                     " payload::jsonb ->> 'level', state,"
                                     " attempts, next_attempt_at, created_at,"
                                     " last_error FROM hitl_outbox WHERE"
                                     " state <> 'delivered' ORDER BY id"))
        deliveries = {}
        for delivery, event, did, level in hooks.received():
            if event == "decision.escalated":
                deliveries.setdefault((did, level), set()).add(delivery)
        doubled = [k for k, v in deliveries.items() if len(v) > 1]
        if doubled:
            failures.append("%d (decision, level) delivered under several "
                            "delivery ids: %s" % (len(doubled), doubled[:5]))
        if set(deliveries) != logged:
            failures.append("escalations logged but not delivered: %s; "
                            "delivered but not logged: %s" % (
                                sorted(logged - set(deliveries))[:5],
                                sorted(set(deliveries) - logged)[:5]))

        verify = subprocess.run([binary, "audit", "verify", "--database-url",
                                 url], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        if verify.returncode != 0:
            failures.append("audit verify: " + verify.stdout.decode())

        print("seed %d: acknowledged %d creations, %d approvals, %d comments;"
              " %d requests unacknowledged (503 or no answer); %d "
              "escalations, each once in the log and delivered once; "
              "killed at %s" % (seed, len(book.created), len(book.approved),
                                len(book.comments), book.unavailable,
                                escalations, killed_db))
    finally:
        for x in nodes:
            x.stop()
        if os.environ.get("HITL_FAILOVER_KEEP_DB"):
            print("seed %d: kept database %s" % (seed, db))
        else:
            try:
                psql(admin, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
            except RuntimeError:
                pass
    for f in failures:
        print("FAIL seed %d: %s" % (seed, f))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
