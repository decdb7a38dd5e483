"""One hostile input and what may come back for it.

`accept` holds, for each request in the payload, the statuses that are a
correct answer to it, plus NONE when closing the connection without an
answer is correct too; None means "any answer" (the global rules still
apply: no 5xx other than 503, errors as problem+json). A request that may
not go unanswered and is not answered fails its case."""

import json

import wire

NONE = "no answer"

# SPEC §10 and issue 17 §1: a path id that breaks the id rules is refused
# with 404 (or 400) as problem+json, before any actor is asked.
PATH_ID_BAD = frozenset({400, 404})
# A request the HTTP parser cannot frame (a control character or a space in
# the request line, a broken header line, bad chunk sizes, EOF mid message):
# RFC 9112 §2.2/§3 lets a server answer 400 or just close, and SPEC §10 does
# not choose; both are accepted, and closes are counted apart.
FRAMING = frozenset({400, NONE})
# SPEC §10: a slow client is dropped, "408 if possible".
DROPPED = frozenset({408, NONE})


def printable(data, limit=120):
    """Bytes as a Python literal, cut to `limit` characters, for reports."""
    text = repr(bytes(data[:limit]))
    if len(data) > limit:
        text += "...(%d bytes)" % len(data)
    return text


class http_case:
    kind = "http"

    def __init__(self, group, name, payload, accept, methods=None,
                 half_close=False, abort=False):
        self.group = group
        self.name = name
        self.payload = payload
        self.accept = accept
        self.methods = methods
        self.half_close = half_close
        # Sent, then the socket is closed at once, nothing read.
        self.abort = abort

    @property
    def requests(self):
        return len(self.accept)

    def describe(self):
        return "%s: %s: %s" % (self.group, self.name, printable(self.payload))


def problem_violation(resp):
    """Why an error answer is not SPEC §3's problem+json, or None."""
    ctype = (resp.header("content-type") or b"").split(b";")[0].strip()
    if ctype.lower() != b"application/problem+json":
        return "status %d with Content-Type %r, not application/problem+json" \
            % (resp.status, ctype)
    try:
        doc = json.loads(resp.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return "status %d: the problem body is not UTF-8 JSON (%s): %s" % (
            resp.status, e.__class__.__name__, printable(resp.body))
    if not isinstance(doc, dict) or doc.get("status") != resp.status:
        return "status %d: problem body has status %r" % (
            resp.status, doc.get("status") if isinstance(doc, dict) else doc)
    return None


def judge(c, out):
    """Failures of one exchange against its case's `accept` (the 5xx and
    problem+json rules are checked for every answer by the recorder)."""
    failures = []
    for i, resp in enumerate(out.responses[:c.requests]):
        ok = c.accept[i]
        if ok is not None and resp.status not in ok:
            failures.append("request %d answered %d, expected %s" % (
                i + 1, resp.status, sorted(x for x in ok if x != NONE)
                + ([NONE] if NONE in ok else [])))
    if len(out.responses) < c.requests and not c.abort:
        i = len(out.responses)
        ok = c.accept[i]
        if ok is not None and NONE not in ok:
            failures.append("request %d got no answer (%s after %.1fs)" % (
                i + 1, out.end, out.seconds))
    if out.end == wire.GARBLED:
        failures.append("the answer is not HTTP: %s" % printable(out.tail))
    return failures
