"""Hostile header names and values: Authorization, Content-Type, User-Agent
(stored in the audit trail), Origin, Sec-WebSocket-Protocol, X-Request-Id
(echoed and logged only when sane; the recorder checks the id of every
answer), and names no
header may have. A value with a control character breaks the framing, so
for it only the global rules hold (no 5xx but 503, errors as problem+json);
every other value is valid HTTP and gets the route's own answer."""

from case import NONE, http_case
from http_request import bearer, build, create_body
import hostile_text as ht
from service import CORS_ORIGIN
import websocket_frames as wsf


def _valued(ok, value):
    return None if ht.breaks_header_value(value) else frozenset(ok)


def headers(t, rng, random_rounds):
    cases = []
    fixture = b"/hitl/decisions/" + t.fixture_id
    comment = b"/hitl/patches/" + t.fixture_patch + b"/comment"
    values = ht.VALUES + [bytes(rng.randrange(256)
                                for _ in range(rng.randrange(1, 60)))
                          for _ in range(random_rounds)]
    for v in values:
        cases.append(http_case(
            "header Authorization", "Bearer %r" % v,
            build(b"GET", fixture, [(b"Authorization", b"Bearer " + v)]),
            [_valued({401}, v)]))
        cases.append(http_case(
            "header Authorization", "%r" % v,
            build(b"GET", fixture, [(b"Authorization", v)]),
            [_valued({401}, v)]))
        cases.append(http_case(
            "header Authorization", "valid token + %r" % v,
            build(b"GET", fixture, [(b"Authorization",
                                     b"Bearer " + t.svc + v)]),
            [_valued({401} if v.strip(b" \t") else {200, 401}, v)]))
        # The same body every time: created once (201), then 200.
        cases.append(http_case(
            "header Content-Type", "%r" % v,
            build(b"POST", b"/hitl/admin/create-decision", [bearer(t.svc)],
                  create_body("hostile-content-type", "hostile-ct-patch"),
                  content_type=v),
            [_valued({200, 201, 400, 415}, v)]))
        cases.append(http_case(
            "header User-Agent", "%r on a comment" % v,
            build(b"POST", comment, [bearer(t.bob), (b"User-Agent", v)],
                  b'{"comment":"hostile user agent"}'),
            [_valued({201}, v)]))
        cases.append(http_case(
            "header X-Request-Id", "%r" % v,
            build(b"GET", fixture, [bearer(t.svc), (b"X-Request-Id", v)]),
            [_valued({200}, v)]))
        cases.append(http_case(
            "header Origin", "%r on OPTIONS" % v,
            build(b"OPTIONS", fixture, [(b"Origin", v)]),
            [_valued({204}, v)]))
        cases.append(http_case(
            "header Origin", "%r on GET" % v,
            build(b"GET", fixture, [bearer(t.svc), (b"Origin", v)]),
            [_valued({200}, v)]))
        cases.append(http_case(
            "header Sec-WebSocket-Protocol", "bearer.%r, no Authorization" % v,
            wsf.upgrade_request(0, [(b"Sec-WebSocket-Protocol",
                                     b"hitl.v1, bearer." + v)]),
            [_valued({400, 401}, v)]))
        cases.append(http_case(
            "header Sec-WebSocket-Protocol", "%r beside a valid token" % v,
            wsf.upgrade_request(0, [(b"Sec-WebSocket-Protocol",
                                     b"bearer." + t.svc + b", " + v)]),
            [_valued({101, 400}, v)]))
    cases += [
        http_case("header Authorization", "valid then garbage",
                  build(b"GET", fixture, [bearer(t.svc),
                                          (b"Authorization", b"Bearer \xff")]),
                  [frozenset({200, 400, 401})]),
        http_case("header Authorization", "garbage then valid",
                  build(b"GET", fixture, [(b"Authorization", b"Bearer \xff"),
                                          bearer(t.svc)]),
                  [frozenset({200, 400, 401})]),
        http_case("header Origin", "the configured origin",
                  build(b"OPTIONS", fixture,
                        [(b"Origin", CORS_ORIGIN.encode())]),
                  [frozenset({204})]),
    ]
    names = [b"X-\xff", b"\xff", b"X Y", b"X\x00", b"", b" X", b"X\t", b"X\r",
             b"(){ :; };", b"X:Y", b"X" * 3000, b"\xc3\xa9", b"Content-Length",
             b"Transfer-Encoding", b"Host", b"Connection", b"Upgrade"]
    names += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 30)))
              for _ in range(random_rounds)]
    for name in names:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            ok = {400, 411, NONE}  # a GET with a broken body framing
        elif name.lower() in (b"host", b"connection", b"upgrade"):
            ok = {200, 400}        # duplicated or odd, still valid framing
        elif ht.token_name(name):
            ok = {200}
        else:
            ok = {200, 400, NONE}  # RFC 9112 §5: not a header line
        cases.append(http_case(
            "header names", "name %r" % name,
            build(b"GET", b"/health", [(name, b"\xff\xfe value")]),
            [frozenset(ok)]))
    for label, raw in (
            ("no colon", b"GarbageLine"),
            ("obs-fold", b"X-A: 1\r\n  continued"),
            ("space before colon", b"X-A : 1"),
            ("no Host", None)):
        lines = b"GET /health HTTP/1.1\r\n"
        if raw is not None:
            lines += b"Host: 127.0.0.1\r\n" + raw + b"\r\n"
        cases.append(http_case("header names", label, lines + b"\r\n",
                               [frozenset({200, 400, NONE})]))
    return cases
