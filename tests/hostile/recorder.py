"""What came back, and what was wrong with it: the status histogram, the
requests sent, and every failure with the input that caused it. Shared by
the worker threads, so every change holds the lock."""

import collections
import re
import threading

import case as case_mod
import wire


# What every answer's X-Request-Id must be: the client's only when it was
# this (1-128 visible ASCII characters), so a hostile one is never echoed.
_REQUEST_ID = re.compile(rb"[\x21-\x7e]{1,128}")


def request_id_violation(r):
    """Why an answer's X-Request-Id is missing or unsafe, or None."""
    rid = r.header("X-Request-Id")
    if rid is None:
        return "status %d without X-Request-Id" % r.status
    if not _REQUEST_ID.fullmatch(rid):
        return "status %d with X-Request-Id %r" % (r.status, rid[:200])
    return None


class recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.ws_frames = 0
        self.cases = 0
        self.statuses = collections.Counter()
        self.unanswered = collections.Counter()  # how connections ended
        self.ws_outcomes = collections.Counter()
        # check name -> list of failure lines
        self.failures = collections.defaultdict(list)

    def fail(self, check, line):
        with self.lock:
            self.failures[check].append(line)

    def http(self, c, out, log_path):
        """Records one exchange and checks the rules every answer obeys."""
        with self.lock:
            self.cases += 1
            if out.sent_bytes:
                self.requests += c.requests
            for r in out.responses:
                self.statuses[r.status] += 1
            if not out.responses and not c.abort:
                self.unanswered[out.end] += 1
        for r in out.responses:
            if r.status >= 500 and r.status != 503:
                self.fail("5xx", "%d for %s (server log %s)" % (
                    r.status, c.describe(), log_path))
            if r.status >= 400:
                why = case_mod.problem_violation(r)
                if why:
                    self.fail("problem+json", "%s for %s" % (why, c.describe()))
            why = request_id_violation(r)
            if why:
                self.fail("request id", "%s for %s" % (why, c.describe()))
        for why in case_mod.judge(c, out):
            self.fail("answers", "%s for %s" % (why, c.describe()))

    def websocket(self, c, upgrade, ending, log_path):
        """Records a WebSocket case: the upgrade's outcome, and how the
        server ended the connection after the frames."""
        with self.lock:
            self.cases += 1
            self.requests += 1
            for r in upgrade.responses:
                self.statuses[r.status] += 1
            if not upgrade.responses:
                self.unanswered[upgrade.end] += 1
            if ending is not None:
                self.ws_frames += c.frame_count
                how, code = ending
                self.ws_outcomes["close %s" % code if how == "close" else how] \
                    += 1
        for r in upgrade.responses:
            if r.status >= 500 and r.status != 503:
                self.fail("5xx", "%d for the upgrade of %s (server log %s)" % (
                    r.status, c.describe(), log_path))
            why = request_id_violation(r)
            if why:
                self.fail("request id", "%s for the upgrade of %s" % (
                    why, c.describe()))
        if ending is None:
            status = upgrade.statuses()
            self.fail("answers", "upgrade not accepted (%s, %s) for %s" % (
                status or "no answer", upgrade.end, c.describe()))
            return
        if c.close_codes is not None:
            how, code = ending
            if how != "close" or code not in c.close_codes:
                self.fail("websocket limit", "%s%s instead of close %s for %s"
                          % (how, " %s" % code if how == "close" else "",
                             "/".join(map(str, sorted(c.close_codes))),
                             c.describe()))

    def histogram_lines(self):
        lines = []
        for status in sorted(self.statuses):
            lines.append("  %d: %d" % (status, self.statuses[status]))
        closed = self.unanswered[wire.CLOSED] + self.unanswered[wire.RESET]
        lines.append("  closed without an answer: %d (of them reset: %d)"
                     % (closed, self.unanswered[wire.RESET]))
        for end in (wire.TIMEOUT, wire.GARBLED, wire.REFUSED):
            if self.unanswered[end]:
                lines.append("  %s without an answer: %d"
                             % (end, self.unanswered[end]))
        return lines
