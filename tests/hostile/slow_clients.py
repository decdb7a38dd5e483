"""Slow clients (SPEC §10): headers not finished within
header_timeout_seconds, or a body not finished within body_timeout_seconds,
get the connection closed ("408 if possible"). Each probe runs in its own
thread; the verdict waits for the close with a generous margin beyond the
limit (GRACE), so it does not depend on the machine's speed: only a server
that never drops the client fails."""

import socket
import threading
import time

from http_request import bearer, build
from service import LIMITS
import wire

GRACE = 20.0


class probe:
    def __init__(self, name, opening, trickle=b"", allowed=None):
        self.name = name
        self.opening = opening    # sent at once
        self.trickle = trickle    # then one byte every half second
        self.allowed = allowed    # seconds until the close must have come
        self.result = None        # (ended how, after seconds, status or None)
        self.thread = None

    def run(self, port):
        deadline = time.monotonic() + self.allowed + GRACE
        started = time.monotonic()
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError as e:
            self.result = ("could not connect: %s" % e, 0.0, None)
            return
        buf = b""
        try:
            sock.sendall(self.opening)
            pending = self.trickle
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.result = ("still open", time.monotonic() - started,
                                   None)
                    return
                sock.settimeout(min(left, 0.5) if pending else left)
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    if pending:
                        try:
                            sock.sendall(pending[:1])
                        except OSError:
                            pass
                        pending = pending[1:]
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    chunk = b""
                if chunk:
                    buf += chunk
                    continue
                status = None
                try:
                    got = wire.parse_response(buf, b"GET", True)
                    status = got[0].status if got else None
                except Exception:
                    status = "garbled"
                self.result = ("closed", time.monotonic() - started, status)
                return
        finally:
            sock.close()

    def verdict(self):
        """None when it passed, else why not."""
        how, secs, status = self.result
        if how != "closed":
            return "%s after %.1fs (limit %.0fs + %.0fs grace)" % (
                how, secs, self.allowed, GRACE)
        if status not in (None, 408):
            return "closed after %.1fs with answer %s, expected 408 or none" % (
                secs, status)
        return None


def probes(t):
    head = LIMITS["header_timeout_seconds"]
    body = LIMITS["body_timeout_seconds"]
    approve = build(b"POST", b"/hitl/patches/nothing-here/approve",
                    [bearer(t.alice)], b'{"decision_id":"x"}' + b" " * 81)
    cut = approve.index(b"\r\n\r\n") + 4 + 10
    return [
        probe("headers never finished", b"GET /health HTTP/1.1\r\nHost: x\r\n",
              allowed=head),
        probe("headers sent a byte every half second",
              b"GET /health HTTP/1.1\r\n", b"X-Slow: " + b"a" * 4000,
              allowed=head),
        probe("request line never finished", b"GET /hea", allowed=head),
        probe("body never finished (10 of 100 bytes)", approve[:cut],
              allowed=head + body),
    ]


def start(all_probes, port):
    for p in all_probes:
        p.thread = threading.Thread(target=p.run, args=(port,), daemon=True)
        p.thread.start()


def finish(all_probes):
    for p in all_probes:
        p.thread.join(p.allowed + GRACE + 15)
        if p.result is None:
            p.result = ("probe thread did not end", 0.0, None)
