"""One WebSocket client per node (GET /hitl/ws), connected before the
load and reconnecting when its node goes away, and the check that each saw
every acknowledged creation and approval exactly once.

A client's life is cut into segments: a new one starts at each (re)connect
and at each `stream.resync`. What a client must have seen: every write
sent after its segment opened (plus OPEN_SLACK, the time a new
subscription may take to register) and, for a segment that ended, answered
more than TAIL_SLACK before the latest write of the same partition whose
event the segment did receive was sent; and nothing answered less than
TAIL_SLACK before the client was stopped. A stream follows commit order per
partition only (a feed that catches up sends partition after partition),
so in each partition it received a prefix: what a dying node, or one that
dropped a client that fell behind, had not pushed yet is not owed,
whenever it was committed. Duplicates are counted from one
resync to the next, across reconnections."""

import base64
import collections
import json
import os
import socket
import struct
import threading
import time

OPEN_SLACK = 1.0
TAIL_SLACK = 2.0
KEPT = ("decision.created", "decision.approved", "decision.escalated",
        "decision.auto_approved", "decision.rejected", "decision.cancelled")


def contradiction(ev):
    """Why a frame shows its decision other than as its event left it
    (a feed rendering an entry with a later state of the row), or None."""
    name, d = ev.get("event"), ev.get("decision") or {}
    status, level = d.get("decision"), d.get("escalation_level")
    if name == "decision.created":
        if status not in ("pending", "auto_approved") or level != 0:
            return "created shown %s at level %s" % (status, level)
    elif name == "decision.escalated":
        want = (ev.get("escalation") or {}).get("level")
        if status != "escalated" or level != want:
            return "escalation to %s shown %s at level %s" % (
                want, status, level)
    elif status != name[len("decision."):]:
        return "%s shown %s" % (name, status)
    return None


def masked(opcode, payload=b""):
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return struct.pack("!BB", 0x80 | opcode, 0x80 | len(payload)) + key + body


def upgrade(port, token, timeout=5.0):
    """An open socket after a 101, and the bytes read past its head; None
    on any other answer (401 until the node's token cache has the token)."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    except OSError:
        return None, b""
    key = base64.b64encode(os.urandom(16)).decode()
    head = ("GET /hitl/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
            "Authorization: Bearer %s\r\n\r\n" % (port, key, token))
    buf = b""
    try:
        sock.settimeout(timeout)
        sock.sendall(head.encode())
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(4096)
            if not chunk:
                raise OSError("closed during the upgrade")
            buf += chunk
    except OSError:
        sock.close()
        return None, b""
    status_line, _, rest = buf.partition(b"\r\n")
    _, _, tail = buf.partition(b"\r\n\r\n")
    if b" 101 " not in status_line + b" ":
        sock.close()
        return None, b""
    return sock, tail


class frames:
    """The server's frames (unmasked) from a socket with a read timeout."""

    def __init__(self, sock, initial):
        self.sock, self.buf = sock, bytearray(initial)

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)   # socket.timeout passes up
            if not chunk:
                raise EOFError()
            self.buf += chunk

    def next(self):
        self._need(2)
        opcode, n = self.buf[0] & 0x0F, self.buf[1] & 0x7F
        at = 2
        if n == 126:
            self._need(4)
            n, at = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(at + n)
        payload = bytes(self.buf[at:at + n])
        del self.buf[:at + n]
        return opcode, payload


class segment:
    def __init__(self, opened_at, why):
        self.opened_at = opened_at
        self.why = why              # "connect", "reconnect" or "resync"
        self.ended_at = None
        self.seen = collections.Counter()


class stream_watch:
    """The client of one node, in a thread of its own until stop()."""

    def __init__(self, node, token):
        self.node, self.token = node, token
        self.lock = threading.Lock()
        self.segments = []
        self.resyncs = 0
        self.reconnects = 0
        self.duplicates = []        # keys seen twice between two resyncs
        self.duplicate_frames = []  # both frames of each, for the report
        self.misshown = []          # (why, frame): see contradiction()
        self._first = {}
        self._since_resync = collections.Counter()
        self.stopped_at = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def connected(self):
        with self.lock:
            return bool(self.segments) and self.segments[-1].ended_at is None

    def saw(self, event, decision_id):
        with self.lock:
            return any(s.seen[(event, decision_id, None)] for s in
                       self.segments)

    def stop(self):
        with self.lock:
            self.stopped_at = time.monotonic()
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        first = True
        while not self._stop.is_set():
            sock, tail = (None, b"")
            if self.node.reachable():
                sock, tail = upgrade(self.node.port, self.token)
            if sock is None:
                time.sleep(0.2)
                continue
            with self.lock:
                self.segments.append(segment(
                    time.monotonic(), "connect" if first else "reconnect"))
                if not first:
                    self.reconnects += 1
            first = False
            self._read(sock, tail)
            sock.close()
            if self._stop.is_set():
                break   # stopped by the test: its last segment stays open
            with self.lock:
                self.segments[-1].ended_at = time.monotonic()

    def _read(self, sock, tail):
        sock.settimeout(1.0)
        reader = frames(sock, tail)
        last_sent = time.monotonic()
        while not self._stop.is_set():
            # The server closes after 60 s of silence from the client.
            if time.monotonic() - last_sent > 15:
                try:
                    sock.sendall(masked(0xA))
                except OSError:
                    return
                last_sent = time.monotonic()
            try:
                opcode, payload = reader.next()
            except socket.timeout:
                continue
            except (EOFError, OSError):
                return
            if opcode == 0x8:
                return
            if opcode == 0x9:
                try:
                    sock.sendall(masked(0xA, payload))
                except OSError:
                    return
                last_sent = time.monotonic()
                continue
            if opcode != 0x1:
                continue
            self._event(json.loads(payload))

    def _event(self, ev):
        now = time.monotonic()
        name = ev.get("event")
        with self.lock:
            if name == "stream.resync":
                self.resyncs += 1
                self.segments[-1].ended_at = now
                self.segments.append(segment(now, "resync"))
                self._since_resync.clear()
                self._first.clear()
                return
            if name not in KEPT:
                return
            why = contradiction(ev)
            if why:
                self.misshown.append((why, ev))
            level = (ev.get("escalation") or {}).get("level")
            key = (name, ev["decision"]["decision_id"], level)
            self.segments[-1].seen[key] += 1
            self._since_resync[key] += 1
            if self._since_resync[key] == 1:
                self._first[key] = ev
            elif self._since_resync[key] == 2:
                self.duplicates.append(key)
                self.duplicate_frames.append((self._first[key], ev))

    def missing(self, events):
        """The acknowledged (event, decision id, sent at, answered at,
        partition) this client owed and did not see."""
        written = {(name, did, None): (sent, part)
                   for name, did, sent, _, part in events}
        with self.lock:
            # Per ended segment and partition: when the latest write it
            # showed was sent.
            reached = []
            for s in self.segments:
                if s.ended_at is None:
                    reached.append(None)
                    continue
                r = collections.defaultdict(lambda: float("-inf"))
                for k in s.seen:
                    if k in written:
                        sent, part = written[k]
                        r[part] = max(r[part], sent)
                reached.append(r)
            out = []
            for name, did, sent, acked, part in events:
                key = (name, did, None)
                # The segment the write was sent in.
                home = None
                for i, s in enumerate(self.segments):
                    if s.opened_at + OPEN_SLACK <= sent:
                        home = i
                if home is None:
                    continue
                if self.stopped_at is not None and \
                        acked > self.stopped_at - TAIL_SLACK:
                    continue
                if reached[home] is not None and \
                        acked > reached[home][part] - TAIL_SLACK:
                    continue
                if not any(t.seen[key] for t in self.segments[home:]):
                    out.append((name, did))
            return out


def check(watches, book, out_dir):
    """(failures, one line of figures per client); the frames of each
    duplicate go to OUT_DIR/stream-duplicates-nodeN.jsonl."""
    failures, lines = [], []
    with book.lock:
        events = list(book.events)
    for w in watches:
        lost = w.missing(events)
        with w.lock:
            lines.append("node %d's stream: %d segment(s), %d reconnect(s), "
                         "%d resync(s), %d event(s) seen, %d owed missing, "
                         "%d duplicate(s), %d shown in a later state" % (
                             w.node.index, len(w.segments), w.reconnects,
                             w.resyncs,
                             sum(sum(s.seen.values()) for s in w.segments),
                             len(lost), len(w.duplicates), len(w.misshown)))
            dups = list(w.duplicates)
            misshown = list(w.misshown)
        if misshown:
            path = os.path.join(out_dir, "stream-misshown-node%d.jsonl"
                                % w.node.index)
            with open(path, "w") as f:
                for why, frame in misshown:
                    f.write(json.dumps({"why": why, "frame": frame}) + "\n")
            failures.append("node %d's stream showed %d event(s) in a state "
                            "other than their own: %s" % (
                                w.node.index, len(misshown),
                                [why for why, _ in misshown[:5]]))
        if lost:
            failures.append("node %d's stream missed %d acknowledged "
                            "event(s): %s" % (w.node.index, len(lost),
                                              lost[:5]))
        if dups:
            path = os.path.join(out_dir, "stream-duplicates-node%d.jsonl"
                                % w.node.index)
            with open(path, "w") as f:
                for pair in w.duplicate_frames:
                    f.write(json.dumps(pair) + "\n")
            failures.append("node %d's stream showed %d event(s) twice: %s"
                            % (w.node.index, len(dups), dups[:5]))
    return failures, lines
