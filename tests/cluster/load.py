"""The load of the cluster tests: threads sending creations, approvals and
comments to every node, and the ledger of what the nodes acknowledged
(with when each write was sent and answered, for the live-stream check)."""

import collections
import hashlib
import random
import threading
import time

from harness import call


def create_body(patch, n, severity):
    return {"patch_id": patch,
            "patch_metadata": {"apv_id": "apv-%d" % n,
                               "package_name": "openssl",
                               "current_version": "1",
                               "target_version": "2",
                               "severity": severity},
            "ml_prediction": {"confidence": 0.3, "prediction": True}}


def partition_of(patch):
    """hitl_partition_of: the first byte of SHA-256 of the patch id."""
    return hashlib.sha256(patch.encode()).digest()[0]


class ledger:
    """What the nodes acknowledged, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = {}       # decision id -> patch
        self.approved = set()   # decision ids
        self.comments = []      # (decision id, text)
        self.unavailable = 0    # 503 or no answer, not acknowledged
        # (event, decision id, sent at, answered at, partition); monotonic
        # seconds
        self.events = []
        self.statuses = collections.Counter()
        # Requests sent while their node was SIGSTOPped, and their answers.
        self.paused_sent = 0
        self.paused_statuses = collections.Counter()

    def answered(self, status, paused):
        with self.lock:
            self.statuses[status] += 1
            if paused:
                self.paused_statuses[status] += 1

    def add(self, kind, *xs, sent=None):
        now = time.monotonic()
        with self.lock:
            if kind == "created":
                self.created[xs[0]] = xs[1]
                self.events.append(("decision.created", xs[0], sent, now,
                                    partition_of(xs[1])))
            elif kind == "approved":
                self.approved.add(xs[0])
                self.events.append(("decision.approved", xs[0], sent, now,
                                    partition_of(self.created[xs[0]])))
            elif kind == "comment":
                self.comments.append((xs[0], xs[1]))
            else:
                self.unavailable += 1

    def server_errors(self):
        """Answers 5xx other than 503: never allowed (503 means retry)."""
        with self.lock:
            return {s: n for s, n in self.statuses.items()
                    if s >= 500 and s != 503}


def send(book, to, method, path, body, token):
    """A call whose answer is counted; (answer, sent at)."""
    paused = to.paused
    if paused:
        with book.lock:
            book.paused_sent += 1
    sent = time.monotonic()
    a = call(to.port, method, path, body, token)
    book.answered(a.status, paused)
    return a, sent


def worker(seed, w, nodes, tokens, book, done):
    rng = random.Random(seed * 1000 + w)
    open_here = []   # (patch, id) acknowledged open, made by this worker
    mine = []        # every (patch, id) this worker had acknowledged
    n = 0
    while not done.is_set():
        live = [x for x in nodes if x.alive()]
        if not live:
            time.sleep(0.1)
            continue
        to = rng.choice(live)
        roll = rng.random()
        if roll < 0.6 or not mine:
            n += 1
            patch = "s%d-w%d-%d" % (seed, w, n)
            severity = rng.choice(["high", "low"])
            a, sent = send(book, to, "POST", "/hitl/admin/create-decision",
                           create_body(patch, n, severity),
                           tokens["wargaming"])
            if a.status in (200, 201):
                book.add("created", a.body["decision_id"], patch, sent=sent)
                open_here.append((patch, a.body["decision_id"]))
                mine.append((patch, a.body["decision_id"]))
            else:
                book.add("unavailable")
        elif roll < 0.85 and open_here:
            patch, did = open_here.pop(rng.randrange(len(open_here)))
            a, sent = send(book, to, "POST",
                           "/hitl/patches/%s/approve" % patch,
                           {"decision_id": did}, tokens["alice"])
            if a.status == 200:
                book.add("approved", did, sent=sent)
            else:
                # 503: its outcome may be unknown; it is not tried again.
                book.add("unavailable")
        else:
            patch, did = rng.choice(mine)
            text = "c-%d-%d-%d" % (seed, w, n)
            n += 1
            a, _ = send(book, to, "POST", "/hitl/patches/%s/comment" % patch,
                        {"decision_id": did, "comment": text}, tokens["bob"])
            if a.status in (200, 201):
                book.add("comment", did, text)
            else:
                book.add("unavailable")
