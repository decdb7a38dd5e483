"""Hostile bytes in the request line: the path, every route's path
parameter (with valid tokens and valid bodies, so that the request gets as
far as a route can take it), the issue's exact attack, and query strings."""

from case import FRAMING, NONE, PATH_ID_BAD, http_case
from http_request import VERDICT_BODIES, bearer, build
import hostile_text as ht

# The routes with a path parameter: (method, path before, path after,
# who may call it, body).
def param_routes(t):
    routes = []
    for verb in (b"approve", b"reject", b"comment"):
        routes.append((b"POST", b"/hitl/patches/", b"/" + verb, t.alice,
                       VERDICT_BODIES[verb]))
    routes.append((b"POST", b"/hitl/patches/", b"/cancel", t.svc,
                   VERDICT_BODIES[b"cancel"]))
    routes.append((b"GET", b"/hitl/decisions/", b"", t.svc, None))
    return routes


def _param_accept(value, encoded):
    if encoded:
        return PATH_ID_BAD
    if ht.restructures_request_line(value):
        return None
    if ht.breaks_request_line(value):
        return PATH_ID_BAD | FRAMING
    if ht.valid_id(value):
        return frozenset({404})  # a valid id that names nothing
    return PATH_ID_BAD


def path_bytes(t):
    """Every byte 0x00-0xFF inside a decision id in the path."""
    cases = []
    for b in range(256):
        v = b"a" + bytes([b]) + b"z"
        cases.append(http_case(
            "path bytes", "byte 0x%02x in /hitl/decisions/{id}" % b,
            build(b"GET", b"/hitl/decisions/" + v, [bearer(t.svc)]),
            [_param_accept(v, False)]))
    return cases


def request_lines(t, rng, random_rounds):
    """Request lines a parser has to refuse or take apart."""
    h = b"\r\nHost: 127.0.0.1\r\n\r\n"
    anything = None
    lines = [
        (b"G\xffT /health HTTP/1.1", {400, 405, NONE}),
        (b"GET\x00 /health HTTP/1.1", {400, 405, NONE}),
        (b"get /health HTTP/1.1", {200, 400, 405, NONE}),
        (b"FOO /health HTTP/1.1", {400, 405, NONE}),
        (b"DELETE /hitl/patches/x/approve HTTP/1.1", {400, 404, 405}),
        (b"PROPFIND /hitl/decisions/x HTTP/1.1", {400, 404, 405, NONE}),
        (b"TRACE /health HTTP/1.1", {400, 405}),
        (b"CONNECT 127.0.0.1:1 HTTP/1.1", {400, 404, 405, NONE}),
        (b"GET /health HTTP/1.\xff", FRAMING),
        (b"GET /health HTTP/2.0", {200, 400, NONE}),
        (b"GET /health HTTP/1.1 extra", FRAMING),
        (b"GET  /health HTTP/1.1", {200, 400, NONE}),
        (b"GET /health", {200, 400, NONE}),  # HTTP/0.9 form
        (b"\r\n\r\nGET /health HTTP/1.1", {200, 400, NONE}),
        (b"GET * HTTP/1.1", {400, 404, NONE}),
        (b"OPTIONS * HTTP/1.1", {204, 400, 404, NONE}),
        (b"GET http://127.0.0.1/health HTTP/1.1", {200, 400, 404}),
        (b"GET http://\xff/health HTTP/1.1", {200, 400, 404, NONE}),
        (b"GET hitl/decisions/x HTTP/1.1", {400, 404, NONE}),
        (b"GET /hitl/decisions/x/../../../health HTTP/1.1", {200, 400, 404}),
        (b"GET /\xff\xfe HTTP/1.1", PATH_ID_BAD),
        (b"GET /assets/\xff HTTP/1.1", PATH_ID_BAD),
        (b"GET /assets/..%2f..%2f..%2fetc%2fpasswd HTTP/1.1", PATH_ID_BAD),
        (b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1", PATH_ID_BAD),
        (b"GET /hitl/ws/\xff HTTP/1.1", PATH_ID_BAD),
        (b"GET /health?\xff HTTP/1.1", {200, 400}),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32),
         anything),
        (b"PRI * HTTP/2.0\r\n\r\nSM", anything),
        (bytes(100), anything),
    ]
    cases = [http_case("request line", "line %d" % i, line + h,
                       [frozenset(ok) if ok is not None else None])
             for i, (line, ok) in enumerate(lines)]
    for i in range(2 * random_rounds):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 120)))
        cases.append(http_case("request line", "random line %d" % i,
                               junk + b"\r\n\r\n", [None]))
    return cases


def path_params(t, rng, random_rounds):
    """Each hostile value as each route's path parameter, raw and
    percent-encoded, with the route's own token and a valid body; plus a
    token that is missing, of the wrong role, or garbage."""
    cases = []
    for method, before, after, token, body in param_routes(t):
        group = "path param %s %s{id}%s" % (
            method.decode(), before.decode(), after.decode())
        for v in ht.VALUES:
            for encoded in (False, True):
                if encoded and not v:
                    continue
                p = ht.percent_encoded(v) if encoded else v
                cases.append(http_case(
                    group, ("%-encoded " if encoded else "raw ") + repr(v),
                    build(method, before + p + after, [bearer(token)], body),
                    [_param_accept(v, encoded)]))
        for v in (b"a\xff", b"%FF", b"\xc3\x28", b"x" * 300):
            for label, auth in (("no token", []),
                                ("auditor token", [bearer(t.audrey)]),
                                ("garbage token", [bearer(b"\xff\x00x")])):
                if label == "garbage token":
                    ok = {400, 401, 404, NONE}  # a NUL in a header
                else:
                    ok = {400, 401, 403, 404}
                cases.append(http_case(
                    group, "%s, %r" % (label, v),
                    build(method, before + v + after, auth, body),
                    [frozenset(ok)]))
        for i in range(random_rounds):
            v = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            cases.append(http_case(
                group, "random %r" % v,
                build(method, before + v + after, [bearer(token)], body),
                [None if ht.breaks_request_line(v) else PATH_ID_BAD]))
    return cases


def exact_attack(t):
    """Issue 17's attack: a raw 0xFF in the patch id of an approval with a
    valid reviewer token, ten times (four used to stop the write path)."""
    req = build(b"POST", b"/hitl/patches/a\xff/approve", [bearer(t.alice)],
                b'{"decision_id":"x"}')
    return [http_case("issue 17 attack", "attack %d of 10" % (i + 1), req,
                      [PATH_ID_BAD]) for i in range(10)]


# The query parameters of each route; every one of them is refused (400)
# whatever hostile value it gets, except where noted.
def query_routes(t):
    return [
        (b"/hitl/patches/pending", t.alice,
         [b"limit", b"cursor", b"priority", b"severity", b"sort"]),
        (b"/hitl/analytics/audit-logs", t.audrey,
         [b"decision_id", b"action", b"performed_by", b"since", b"until",
          b"limit", b"cursor"]),
        (b"/hitl/analytics/summary", t.audrey, [b"since", b"until"]),
        (b"/hitl/decisions/" + t.fixture_id, t.svc, [b"wait"]),
    ]


def _query_accept(key, value, encoded):
    """SPEC §10: a query value that is not valid UTF-8 or holds a control
    character is 400; each key's own rules refuse the rest."""
    if not encoded and ht.restructures_request_line(value):
        return None
    if not encoded and ht.breaks_request_line(value):
        return frozenset({400, NONE})
    d = value if encoded else ht.percent_decoded(value)
    if d is None or not ht.valid_text(d):
        return frozenset({400})
    if d == b"":
        return frozenset({200, 400})  # an empty value may mean "not given"
    if key == b"decision_id":
        return frozenset({200}) if ht.valid_id(d) else frozenset({400})
    if key == b"performed_by":
        return frozenset({200, 400})  # a name: any valid text may be one
    return frozenset({400})


def queries(t, rng, random_rounds):
    cases = []
    for path, token, keys in query_routes(t):
        group = "query " + path.decode().replace(t.fixture_id.decode(), "{id}")
        for key in keys:
            for v in ht.VALUES:
                # '&', '=', '#', '+' change the query's structure raw;
                # the values above hold none of them.
                for encoded in (False, True):
                    if encoded and not v:
                        continue
                    if key in (b"since", b"until") and path.endswith(
                            b"summary") and _query_accept(
                                key, v, encoded) != frozenset({400}):
                        continue  # would run a full scan; not this test's
                    p = ht.percent_encoded(v) if encoded else v
                    cases.append(http_case(
                        group, "%s%s=%r" % ("%-encoded " if encoded else "",
                                            key.decode(), v),
                        build(b"GET", path + b"?" + key + b"=" + p,
                              [bearer(token)]),
                        [_query_accept(key, v, encoded)]))
        if path.endswith(b"summary"):
            continue
        for q in (b"?", b"?&&&", b"?=", b"?==", b"?a=b=c", b"?%", b"?limit",
                  b"?limit=1&limit=2", b"?\xff=1", b"?%FF=1", b"?zzz=\xff",
                  b"?" + b"a=1&" * 200):
            cases.append(http_case(group, "query %r" % q,
                                   build(b"GET", path + q, [bearer(token)]),
                                   [frozenset({200, 400})]))
        for i in range(random_rounds):
            v = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            cases.append(http_case(
                group, "random value %r" % v,
                build(b"GET", path + b"?" + keys[0] + b"=" + v,
                      [bearer(token)]),
                [None if ht.breaks_request_line(v) else frozenset({200, 400})]))
    return cases
