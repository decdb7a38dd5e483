"""The parts every cluster test stands on: real `hitl serve` processes,
HTTP calls that never raise, a webhook receiver, psql, and waiting for a
state with a ceiling. Standard library only."""

import http.client
import http.server
import json
import os
import signal
import socket
import subprocess
import threading
import time


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


class answer:
    """One HTTP answer: status 0 when the node did not answer (refused,
    reset, timed out); body parsed JSON or None; headers lower-cased."""

    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = headers or {}


def call(port, method, path, body=None, token=None, timeout=30,
         headers=None):
    sent = {"Content-Type": "application/json"}
    if token:
        sent["Authorization"] = "Bearer " + token
    sent.update(headers or {})
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request(method, path, body=json.dumps(body) if body is not None
                     else None, headers=sent)
        resp = conn.getresponse()
        data = resp.read()
        got = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
    except (OSError, http.client.HTTPException):
        return answer(0)
    try:
        return answer(resp.status, json.loads(data) if data else None, got)
    except ValueError:
        return answer(resp.status, None, got)


def request(port, method, path, body=None, token=None, timeout=30):
    """(status, parsed JSON or None), as `call`."""
    a = call(port, method, path, body, token, timeout)
    return a.status, a.body


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
    """One `hitl serve`; restart() starts it again with the same id and
    ports, as a restarted machine would."""

    def __init__(self, binary, url, config, out_dir, index, extra_args=()):
        self.index = index
        self.extra_args = list(extra_args)
        self.id = "00000000-0000-4000-8000-%012d" % (index + 1)
        self.port = free_port()
        self.node_port = free_port()
        self.binary, self.url, self.config = binary, url, config
        self.log_path = os.path.join(out_dir, "node%d.log" % index)
        self.paused = False   # SIGSTOPped: probes keep away, the load not
        self.starts = 0
        open(self.log_path, "wb").close()
        self.start()

    def start(self):
        # Appends: a restarted node's log follows its earlier life's.
        log = open(self.log_path, "ab")
        self.starts += 1
        log.write(b"---- start %d ----\n" % self.starts)
        log.flush()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:%d" % self.port,
             "--database-url", self.url, "--config", self.config,
             "--node-id", self.id,
             "--node-listen", "127.0.0.1:%d" % self.node_port]
            + self.extra_args,
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

    def reachable(self):
        """Alive and not paused: where a probe may send."""
        return self.alive() and not self.paused

    def metric(self, name):
        """A sample of /metrics (None when the node does not answer)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.split()[-1])
        return None

    def owned(self):
        status, _ = request(self.port, "GET", "/health", timeout=5)
        if status != 200:
            return None
        n = self.metric("hitl_partitions_owned")
        return None if n is None else int(n)

    def stop(self, timeout=20):
        """SIGTERM; SIGKILL when it has not exited within `timeout`. Returns
        the seconds it took, or None when it had to be killed."""
        if not self.alive():
            return 0.0
        if self.paused:
            self.resume()
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
            return time.monotonic() - started
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def kill(self):
        self.proc.kill()
        self.proc.wait()

    def pause(self):
        self.paused = True
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False


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
