"""The load of the backup test: creations (high and medium), approvals and
comments from several threads, each acknowledged answer logged with the
time it came, so that "acknowledged before pg_dump started" can be told."""

import threading
import time

from hitl_processes import request


class ledger:
    """Acknowledged writes, each with the monotonic time of its answer."""

    def __init__(self):
        self.lock = threading.Lock()
        self.created = []    # (at, decision id, patch id)
        self.approved = []   # (at, decision id)
        self.comments = []   # (at, decision id, text)

    def add(self, kind, *xs):
        with self.lock:
            getattr(self, kind).append((time.monotonic(),) + xs)


def worker(w, port, tokens, book, stop):
    n = 0
    mine = []
    while not stop.is_set():
        n += 1
        kind = n % 5
        if kind in (0, 1, 2) or not mine:
            patch = "b-w%d-%d" % (w, n)
            status, body = request(port, "POST", "/hitl/admin/create-decision", {
                "patch_id": patch,
                "patch_metadata": {
                    "apv_id": "apv-%d" % n, "package_name": "openssl",
                    "current_version": "1", "target_version": "2",
                    "severity": "high" if n % 2 else "medium"},
                "ml_prediction": {"confidence": 0.3, "prediction": True}},
                tokens["wargaming"])
            if status in (200, 201):
                book.add("created", body["decision_id"], patch)
                mine.append((patch, body["decision_id"]))
        elif kind == 3:
            patch, did = mine.pop(0)
            status, _ = request(port, "POST", "/hitl/patches/%s/approve" % patch,
                                {"decision_id": did}, tokens["alice"])
            if status == 200:
                book.add("approved", did)
        else:
            patch, did = mine[-1]
            text = "c-w%d-%d" % (w, n)
            status, _ = request(port, "POST", "/hitl/patches/%s/comment" % patch,
                                {"decision_id": did, "comment": text},
                                tokens["bob"])
            if status in (200, 201):
                book.add("comments", did, text)
        time.sleep(0.02)


