"""A long-poll on node A for a decision whose partition node B holds; B is
killed; once B's partitions have a new owner the verdict is given through
the third node C, and A's long-poll must be released soon after the
verdict's answer: only A's feed, following the new owner's commit, can
release it (a verdict through A released it at once, whatever A's feed
did: 0.017 s with the feed read every 30 s). The issue's target is 1 s; the
verdict asserts a generous LIMIT so that it does not depend on the
machine's speed, and the figure is reported.

Nor on its disk. On a busy VM PostgreSQL's WAL flush has stalled every
commit of every node for 14 s at once (a CI run beside stress-ng, seed 5:
both nodes' commits ended within 31 ms of each other), and the poller's
feed could not read meanwhile either (it gave up after 5 s); a sampled
1 s stall was one backend in fdatasync with every other commit queued
behind it. A commit of nothing, made again and again from the verdict on,
measures such stalls: the time they held the database past STALL does not
count against LIMIT, and is reported beside the figure."""

import subprocess
import threading
import time

from harness import call, psql
from load import create_body

LIMIT = 5.0
STALL = 0.5


class database_stalls:
    """Commits of nothing (`SELECT txid_current()` takes a transaction id,
    so its commit waits for the WAL flush), one after another, each's start
    and end kept, until stop()."""

    def __init__(self, db_url):
        self.spans = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, args=(db_url,),
                                        daemon=True)
        self._thread.start()

    def _probe(self, db_url):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                psql(db_url, "SELECT txid_current()")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass  # its time counts as well: nothing committed
            self.spans.append((started, time.monotonic()))
            self._stop.wait(0.25)

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=130)

    def stalled(self, begin, end):
        """Seconds within [begin, end] in which a commit had waited longer
        than STALL."""
        total = 0.0
        for started, ended in self.spans:
            total += max(0.0, min(ended, end) - max(started + STALL, begin))
        return total


def patch_held_by(db_url, node_id, prefix):
    for i in range(5000):
        patch = "%s-%d" % (prefix, i)
        if psql(db_url, "SELECT owner_node FROM hitl_partitions WHERE"
                        " partition_id = hitl_partition_of('%s')"
                        % patch) == node_id:
            return patch
    raise RuntimeError("no patch of a partition of node %s" % node_id)


class long_poll:
    """Made before the kill: the decision exists, the poll is waiting."""

    def __init__(self, db_url, poller, owner, judge, tokens, book, seed):
        self.db_url = db_url
        self.stalls = None
        self.poller, self.judge = poller, judge
        self.tokens, self.book = tokens, book
        self.patch = patch_held_by(db_url, owner.id, "lp%d" % seed)
        deadline = time.monotonic() + 60
        while True:
            a = call(owner.port, "POST", "/hitl/admin/create-decision",
                     create_body(self.patch, 0, "low"), tokens["wargaming"])
            if a.status in (200, 201):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the long-poll's decision was never "
                                   "created: %d" % a.status)
            time.sleep(0.2)
        self.id = a.body["decision_id"]
        book.add("created", self.id, self.patch, sent=time.monotonic())
        self.released_at = None
        self.result = None
        self.verdict_at = None
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self):
        started = time.monotonic()
        a = call(self.poller.port, "GET",
                 "/hitl/decisions/%s?wait=60" % self.id,
                 token=self.tokens["bob"], timeout=90)
        self.released_at = time.monotonic()
        self.result = (a.status, (a.body or {}).get("decision"),
                       self.released_at - started)

    def approve(self, timeout=60):
        """The verdict through the judge's node; a 503 is retried only
        while the decision still reads as open (its outcome was unknown)."""
        self.stalls = database_stalls(self.db_url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sent = time.monotonic()
            a = call(self.judge.port, "POST",
                     "/hitl/patches/%s/approve" % self.patch,
                     {"decision_id": self.id}, self.tokens["alice"])
            if a.status == 200:
                self.verdict_at = time.monotonic()
                self.book.add("approved", self.id, sent=sent)
                return True
            r = call(self.judge.port, "GET", "/hitl/decisions/%s" % self.id,
                     token=self.tokens["bob"])
            if r.status == 200 and r.body.get("decision") == "approved":
                self.verdict_at = time.monotonic()
                return True
            time.sleep(0.2)
        return False

    def check(self):
        """(failures, figure line)."""
        self._thread.join(timeout=90)
        if self.stalls:
            self.stalls.stop()
        if self.verdict_at is None:
            return ["the long-poll's verdict was never accepted"], \
                "long-poll: no verdict"
        if self.result is None:
            return ["the long-poll on node %d never returned"
                    % self.poller.index], "long-poll: never released"
        status, state, waited = self.result
        late = self.released_at - self.verdict_at
        stalled = self.stalls.stalled(self.verdict_at, self.released_at)
        line = ("long-poll on node %d: released %.3f s after the answer to "
                "the verdict through node %d (target 1 s, limit %.0f s), "
                "%d %s after %.1f s; the database's commits stalled %.1f s "
                "meanwhile" % (self.poller.index, late, self.judge.index,
                               LIMIT, status, state, waited, stalled))
        failures = []
        if status != 200 or state != "approved":
            failures.append("the long-poll returned %d %s, not the verdict"
                            % (status, state))
        elif late - stalled > LIMIT:
            failures.append("the long-poll was released %.2f s after the "
                            "verdict, %.2f s of it with the database's "
                            "commits flowing" % (late, late - stalled))
        return failures, line
