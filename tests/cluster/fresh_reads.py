"""Read-your-writes across nodes under the disruption: a write on node X,
then a read of that decision on another node Y with the write's
X-HITL-Position as X-HITL-Min-Position must show the write. Each cycle
creates on X, reads on Y (which may cache it as pending), approves on X and
reads on Y again: that second read is the one a stale cache would spoil.
Only answered reads count (200 or 404); a node away answers nothing."""

import random
import threading
import time

from harness import call
from load import create_body, send


class fresh_reads:
    def __init__(self, seed, nodes, tokens, book, wanted=1000, threads=2,
                 send_position=True):
        self.nodes, self.tokens, self.book = nodes, tokens, book
        self.wanted = wanted
        self.send_position = send_position   # False: shows the check bites
        self.lock = threading.Lock()
        self.reads = 0
        self.stale = []
        self.unpositioned = 0   # writes answered without X-HITL-Position
        self.started = time.monotonic()
        self.finished = None    # when the last read counted was made
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(seed, t),
                                         daemon=True)
                        for t in range(threads)]
        for t in self.threads:
            t.start()

    def done(self):
        if self._stop.is_set():
            return True
        with self.lock:
            return self.reads >= self.wanted

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def stop(self):
        """No write after this returns: a write made while the streams'
        clients are being stopped would be owed to some and not others.
        Bounded by the calls' own timeouts."""
        self._stop.set()
        for t in self.threads:
            t.join()

    def _pair(self, rng):
        live = [x for x in self.nodes if x.reachable()]
        if len(live) < 2:
            return None
        return rng.sample(live, 2)

    def _read(self, y, did, position, expect):
        if not position:
            # Every write answers one (SPEC §8): counted, a failure of the
            # run (failover_test); no read made.
            with self.lock:
                self.unpositioned += 1
            return
        headers = {}
        if self.send_position:
            headers["X-HITL-Min-Position"] = position
        a = call(y.port, "GET", "/hitl/decisions/%s" % did,
                 token=self.tokens["bob"], timeout=10, headers=headers)
        if a.status not in (200, 404):
            return
        with self.lock:
            if self.reads >= self.wanted:
                return
            self.reads += 1
            self.finished = time.monotonic()
            got = a.body.get("decision") if a.status == 200 and a.body \
                else None
            if a.status == 404 or (expect and got != expect):
                self.stale.append((did, y.index, a.status, got, position))

    def _run(self, seed, t):
        rng = random.Random(seed * 7919 + t)
        n = 0
        while not self.done():
            pair = self._pair(rng)
            if pair is None:
                time.sleep(0.1)
                continue
            x, y = pair
            n += 1
            patch = "fr%d-t%d-%d" % (seed, t, n)
            a, sent = send(self.book, x, "POST", "/hitl/admin/create-decision",
                           create_body(patch, n, "low"),
                           self.tokens["wargaming"])
            if a.status not in (200, 201):
                self.book.add("unavailable")
                continue
            did = a.body["decision_id"]
            self.book.add("created", did, patch, sent=sent)
            self._read(y, did, a.headers.get("x-hitl-position"), None)
            if self._stop.is_set():
                return
            a, sent = send(self.book, x, "POST",
                           "/hitl/patches/%s/approve" % patch,
                           {"decision_id": did}, self.tokens["alice"])
            if a.status != 200:
                self.book.add("unavailable")
                continue
            self.book.add("approved", did, sent=sent)
            self._read(y, did, a.headers.get("x-hitl-position"), "approved")
