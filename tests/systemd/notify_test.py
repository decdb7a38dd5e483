#!/usr/bin/env python3
"""`hitl serve` under a NOTIFY_SOCKET receiver, as systemd would run it.

Starts the real binary against the PostgreSQL that run.sh started, with
NOTIFY_SOCKET (a unix datagram socket this script reads) and WATCHDOG_USEC,
and checks what it says: READY=1 only once /health answers 200; WATCHDOG=1
keeps coming; it stops while PostgreSQL is down (the round trip /health
makes cannot succeed) and comes back when it is up; STOPPING=1 on SIGTERM
and a clean exit. Prints one "ok"/"FAIL" line per check and the counts as
"notify: N passed, M failed". Every wait has a deadline.

Usage: notify_test.py --binary B --database-url URL --pg-stop CMD
       --pg-start CMD --out DIR
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

WATCHDOG_USEC = 2_000_000  # serve feeds it every 1 s


class Receiver:
    """The service manager's end of NOTIFY_SOCKET: every datagram, in order."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []  # (monotonic time, {key: value})
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            fields = {}
            for line in data.decode("utf-8", "replace").split("\n"):
                if "=" in line:
                    k, v = line.split("=", 1)
                    fields[k] = v
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, pred, start, deadline_s):
        """Index of the first message from `start` on that satisfies pred."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            msgs = self.snapshot()
            for i in range(start, len(msgs)):
                if pred(msgs[i][1]):
                    return i
            time.sleep(0.05)
        return None


def health(port):
    try:
        with urllib.request.urlopen(
                "http://127.0.0.1:%d/health" % port, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def is_watchdog(m):
    return m.get("WATCHDOG") == "1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--pg-stop", required=True)
    ap.add_argument("--pg-start", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print("%s %s%s" % ("ok  " if ok else "FAIL", name,
                           "" if ok or not detail else ": " + detail),
              flush=True)
        return ok

    sockdir = tempfile.mkdtemp(prefix="hitl-notify-")
    receiver = Receiver(os.path.join(sockdir, "notify"))
    port = free_port()
    env = dict(os.environ)
    env.update(NOTIFY_SOCKET=os.path.join(sockdir, "notify"),
               WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    log = open(os.path.join(args.out, "serve.log"), "w")
    proc = subprocess.Popen(
        [args.binary, "serve", "--listen", "127.0.0.1:%d" % port,
         "--database-url", args.database_url,
         "--migrate-database-url", args.database_url],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        run_checks(args, check, receiver, port, proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        log.close()
        receiver.stop = True
        with open(os.path.join(args.out, "notify.log"), "w") as f:
            t0 = receiver.messages[0][0] if receiver.messages else 0
            for t, m in receiver.snapshot():
                f.write("%8.3f %s\n" % (t - t0, m))
    passed = sum(1 for r in results if r)
    print("notify: %d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


def run_checks(args, check, receiver, port, proc):
    # 1. READY=1, and /health answers 200 the moment it arrives; STATUS
    # lines told the start-up's steps before it.
    ready = receiver.wait_for(lambda m: m.get("READY") == "1", 0, 180)
    if not check("READY=1 arrives", ready is not None,
                 "none within 180 s (exit code %s)" % proc.poll()):
        return
    status = health(port)
    check("/health answers 200 when READY=1 arrives", status == 200,
          "it answered %s" % status)
    before = [m.get("STATUS", "") for _, m in receiver.snapshot()[:ready]]
    check("STATUS lines before READY=1 name the start-up steps",
          any("partitions" in s for s in before)
          and any("schema" in s for s in before), repr(before))
    check("READY=1 comes with STATUS=serving on ...",
          receiver.snapshot()[ready][1].get("STATUS", "").startswith(
              "serving on http://127.0.0.1:%d" % port),
          repr(receiver.snapshot()[ready][1]))

    # 2. WATCHDOG=1 keeps arriving (every second; three within 60 s).
    idx, fed = ready, 0
    while fed < 3:
        idx = receiver.wait_for(is_watchdog, idx + 1, 60)
        if idx is None:
            break
        fed += 1
    if not check("WATCHDOG=1 keeps arriving (3 seen)", fed == 3,
                 "%d within 60 s each" % fed):
        return

    # 3. PostgreSQL stops: the probe fails, serve says so and stops feeding.
    # The transition may come while pg_ctl is still stopping, so the search
    # starts before it.
    mark = len(receiver.snapshot())
    subprocess.run(args.pg_stop, shell=True, check=True, timeout=120)
    stopped = time.monotonic()

    def last_status_unhealthy():
        statuses = [m["STATUS"] for _, m in receiver.snapshot()[mark:]
                    if "STATUS" in m]
        return bool(statuses) and statuses[-1].startswith("unhealthy:")

    end = stopped + 60
    while not last_status_unhealthy() and time.monotonic() < end:
        time.sleep(0.05)
    if not check("STATUS=unhealthy: ... once PostgreSQL is down",
                 last_status_unhealthy(), "none within 60 s"):
        subprocess.run(args.pg_start, shell=True, timeout=120)
        return
    # The window starts when the service said it is unhealthy, not at a
    # guess of how long after the stop that is: notifications come in the
    # order sent, so a WATCHDOG=1 after that STATUS is a watchdog fed while
    # unhealthy, however slow the machine. Three periods without one:
    # systemd would have killed the service after the first.
    quiet_from = [t for t, m in receiver.snapshot()[mark:]
                  if m.get("STATUS", "").startswith("unhealthy:")][-1]
    quiet = 3 * WATCHDOG_USEC / 1e6
    time.sleep(max(0.0, quiet_from + quiet - time.monotonic()))
    fed = [t for t, m in receiver.snapshot()[mark:]
           if is_watchdog(m) and t >= quiet_from]
    check("no WATCHDOG=1 for %.0f s while PostgreSQL is down" % quiet,
          not fed, "%d arrived" % len(fed))
    check("/health answers 503 meanwhile", health(port) == 503)

    # 4. PostgreSQL is back: the watchdog is fed again.
    subprocess.run(args.pg_start, shell=True, check=True, timeout=120)
    mark = len(receiver.snapshot())
    back = receiver.wait_for(is_watchdog, mark, 90)
    check("WATCHDOG=1 again once PostgreSQL is back", back is not None,
          "none within 90 s")

    # 5. SIGTERM: STOPPING=1, then a clean exit; nothing fed after it.
    mark = len(receiver.snapshot())
    proc.send_signal(signal.SIGTERM)
    stopping = receiver.wait_for(lambda m: m.get("STOPPING") == "1", mark, 60)
    check("STOPPING=1 on SIGTERM", stopping is not None, "none within 60 s")
    try:
        rc = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        rc = None
    check("serve exits 0 after SIGTERM", rc == 0, "exit code %s" % rc)
    if stopping is not None:
        late = [m for _, m in receiver.snapshot()[stopping + 1:]
                if is_watchdog(m)]
        check("no WATCHDOG=1 after STOPPING=1", not late,
              "%d arrived" % len(late))


if __name__ == "__main__":
    sys.exit(main())
