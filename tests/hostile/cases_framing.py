"""Hostile framing: requests cut anywhere, pipelines with bad requests among
good ones, chunked-encoding abuse, Content-Length lies, and request lines
and headers beyond SPEC §10's limits."""

from case import FRAMING, NONE, PATH_ID_BAD, http_case
from http_request import bearer, build, create_body
from service import LIMITS, MAX_BODY_BYTES

# A request that is cut is not a request: the server sees EOF (we shut our
# side down) and may answer 400/408 or just close.
CUT = frozenset({400, 408, NONE})


def truncated(t):
    cases = []
    approve = build(b"POST", b"/hitl/patches/nothing-here/approve",
                    [bearer(t.alice)], b'{"decision_id":"x","comment":"c"}')
    # Every cut of a small request, from one byte to one short of all.
    for n in range(1, len(approve)):
        cases.append(http_case("truncated", "approve cut at %d of %d"
                               % (n, len(approve)), approve[:n], [CUT],
                               half_close=True))
    create = build(b"POST", b"/hitl/admin/create-decision", [bearer(t.svc)],
                   create_body("hostile-truncated", "hostile-truncated-p"))
    head = create.index(b"\r\n\r\n")
    points = {
        "in the method": 2, "after the method": 5,
        "in the path": 12, "before the version": create.index(b" HTTP/") + 1,
        "in the version": create.index(b" HTTP/") + 7,
        "after the request line": create.index(b"\r\n") + 2,
        "in a header name": create.index(b"Authorization") + 5,
        "in a header value": create.index(b"Bearer") + 10,
        "between CR and LF": create.index(b"\r\n") + 1,
        "before the blank line": head + 2,
        "between the blank line's CR and LF": head + 3,
        "right after the headers": head + 4,
        "in the body": head + 40,
        "one byte short": len(create) - 1,
    }
    for label, n in points.items():
        cases.append(http_case("truncated", "create cut %s" % label,
                               create[:n], [CUT], half_close=True))
        cases.append(http_case("truncated", "create cut %s, then reset"
                               % label, create[:n], [CUT], abort=True))
    for declared in (1000, 10 ** 6, MAX_BODY_BYTES):
        cases.append(http_case(
            "truncated", "Content-Length %d, 10 bytes sent" % declared,
            build(b"POST", b"/hitl/admin/create-decision", [bearer(t.svc)],
                  b'{"decision', content_length=str(declared).encode()),
            [CUT | {413}], half_close=True))
    return cases


def pipelined(t):
    h = [bearer(t.svc)]
    fixture = b"/hitl/decisions/" + t.fixture_id
    health = build(b"GET", b"/health")
    get = build(b"GET", fixture, h)
    attack = build(b"POST", b"/hitl/patches/a\xff/approve", [bearer(t.alice)],
                   b'{"decision_id":"x"}')
    comment = build(b"POST", b"/hitl/patches/" + t.fixture_patch + b"/comment",
                    [bearer(t.alice)], b'{"comment":"pipelined"}')
    garbage = b"\x00\x01\x02 /x HTTP/1.1\r\n\r\n"
    ok200 = frozenset({200})
    cases = [
        # Every one is answered, in order, the attack 404 in its place. (A
        # RESTinio 0.6.16 bug closed such connections after an answer made
        # within its request handler, e.g. from the cache; see
        # request_handler_scope in http/exchange.hpp.)
        http_case("pipelined", "five good ones with the attack inside",
                  health + get + attack + get + comment,
                  [ok200, ok200, PATH_ID_BAD, ok200, frozenset({201})]),
        # After a request it cannot frame, a server may answer 400 and must
        # close (it cannot find the next request's start): later requests
        # may go unanswered, earlier ones may not.
        http_case("pipelined", "good, garbage, good", get + garbage + get,
                  [ok200, FRAMING, frozenset({200, NONE})]),
        http_case("pipelined", "garbage first", garbage + get + get,
                  [FRAMING, frozenset({200, NONE}), frozenset({200, NONE})]),
        # RFC 9112 §9.6 lets a server close a persistent connection at any
        # point, but this one has no reason to: fifty answers, in order,
        # each whole (the answer grows with the fixture's comments, to tens
        # of kilobytes, more than a socket buffer holds at once).
        http_case("pipelined", "fifty GETs in one write", get * 50,
                  [ok200] * 50),
        http_case("pipelined", "a body longer than its Content-Length",
                  build(b"POST", b"/hitl/patches/x/approve", [bearer(t.alice)],
                        b'{"decision_id":"x"}GET /health HTTP/1.1\r\n\r\n',
                        content_length=b"19"),
                  [frozenset({404}), frozenset({200, 400, NONE})]),
        http_case("pipelined", "an upgrade among GETs",
                  get + build(b"GET", b"/hitl/ws",
                              h + [(b"Upgrade", b"websocket"),
                                   (b"Connection", b"Upgrade"),
                                   (b"Sec-WebSocket-Version", b"13"),
                                   (b"Sec-WebSocket-Key",
                                    b"dGhlIHNhbXBsZSBub25jZQ==")]) + get,
                  [ok200, frozenset({101, 400}), None]),
    ]
    return cases


def _chunked(t, body_chunks, extra_headers=()):
    """An approval of an unknown patch with the given raw chunked body."""
    head = (b"POST /hitl/patches/nothing-here/approve HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nAuthorization: Bearer " + t.alice + b"\r\n"
            b"Content-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n")
    for name, value in extra_headers:
        head += name + b": " + value + b"\r\n"
    return head + b"\r\n" + body_chunks


def chunked(t):
    body = b'{"decision_id":"x"}'
    good = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    # A well-framed body: the route's answer (the patch does not exist).
    route = frozenset({404})
    bad = FRAMING | {413}
    hidden = (b"GET /hitl/patches/smuggled/approve HTTP/1.1\r\n"
              b"Host: x\r\n\r\n")
    size_line = b"%x\r\n" % len(hidden)
    smuggle = size_line + hidden + b"\r\n0\r\n\r\n"
    cl = str(len(size_line)).encode()
    health = build(b"GET", b"/health")
    json_type = (b"Content-Type", b"application/json")
    cases = [
        http_case("chunked", "valid", _chunked(t, good), [route]),
        http_case("chunked", "valid, with an extension",
                  _chunked(t, b"%x;name=value\r\n%s\r\n0\r\n\r\n"
                           % (len(body), body)), [route]),
        http_case("chunked", "valid, one byte a chunk",
                  _chunked(t, b"".join(b"1\r\n%c\r\n" % c for c in body)
                           + b"0\r\n\r\n"), [route]),
        # Trailer fields are valid HTTP/1.1, but SPEC names no answer and a
        # server may refuse to frame them (RFC 9112 §7.1.2 lets it drop
        # them): 400 or a close is accepted too.
        http_case("chunked", "valid, with a trailer",
                  _chunked(t, good[:-2] + b"X-Trailer: 1\r\n\r\n"),
                  [route | FRAMING]),
    ]
    sizes = [b"zz", b"-1", b"-0", b"0x13", b" 13", b"13 ", b"+13", b"1 3",
             b"\xff", b"", b"FFFFFFFFFFFFFFFFFFFF", b"10000000000000000",
             b"7FFFFFFFFFFFFFFF", b"FFFFFFFFFFFFFFFF", b"FFFFFFFF", b"1" * 1000]
    for size in sizes:
        # Whitespace around a size is common leniency (RFC 9112 §7.1.1
        # allows BWS before an extension), so there the route's answer is
        # as good as a refusal.
        ok = bad | route if size.strip() == b"13" else bad
        cases.append(http_case(
            "chunked", "chunk size %r" % size[:30],
            _chunked(t, size + b"\r\n" + body + b"\r\n0\r\n\r\n"),
            [ok], half_close=True))
    cases += [
        http_case("chunked", "huge chunk, few bytes, then EOF",
                  _chunked(t, b"40000000\r\n" + body), [bad | {408}],
                  half_close=True),
        http_case("chunked", "extension with 0xFF",
                  _chunked(t, b"13;\xff\xfe=\x01\r\n" + body + b"\r\n0\r\n\r\n"),
                  [bad | route], half_close=True),
        http_case("chunked", "extension of 8 KiB",
                  _chunked(t, b"13;" + b"e" * 8192 + b"\r\n" + body
                           + b"\r\n0\r\n\r\n"), [bad | route], half_close=True),
        http_case("chunked", "data longer than its size",
                  _chunked(t, b"5\r\n" + body + b"\r\n0\r\n\r\n"), [bad],
                  half_close=True),
        http_case("chunked", "no CRLF after the data",
                  _chunked(t, b"13\r\n" + body + b"0\r\n\r\n"), [bad],
                  half_close=True),
        http_case("chunked", "no last chunk, EOF",
                  _chunked(t, b"13\r\n" + body + b"\r\n"), [CUT],
                  half_close=True),
        http_case("chunked", "last chunk without the final CRLF, EOF",
                  _chunked(t, b"13\r\n" + body + b"\r\n0\r\n"), [CUT],
                  half_close=True),
        http_case("chunked", "ten thousand empty extensions",
                  _chunked(t, b"13" + b";" * 10000 + b"\r\n" + body
                           + b"\r\n0\r\n\r\n"), [bad | route],
                  half_close=True),
        # More than max_body_bytes in 1 KiB chunks: no Content-Length to
        # check first, so 413 or a close once the limit is passed.
        http_case("chunked", "body beyond max_body_bytes in chunks",
                  _chunked(t, (b"400\r\n" + b" " * 1024 + b"\r\n")
                           * (MAX_BODY_BYTES // 1024 + 64) + b"0\r\n\r\n"),
                  [frozenset({413, NONE})]),
        # Transfer-Encoding and Content-Length together (RFC 9112 §6.3:
        # the chunked framing wins, or 400). The chunk holds a request that a
        # server reading by Content-Length would run as the next one (an
        # answer 405 to it); by chunks the body is not JSON (400) and the
        # next request is GET /health (200).
        http_case("chunked", "Transfer-Encoding, then Content-Length",
                  _chunked(t, smuggle, [(b"Content-Length", cl)]) + health,
                  [frozenset({400, NONE}), frozenset({200, NONE})]),
        http_case("chunked", "Content-Length, then Transfer-Encoding",
                  build(b"POST", b"/hitl/patches/nothing-here/approve",
                        [bearer(t.alice), json_type, (b"Content-Length", cl),
                         (b"Transfer-Encoding", b"chunked")], None)
                  + smuggle + health,
                  [frozenset({400, NONE}), frozenset({200, NONE})]),
    ]
    for te in (b"gzip, chunked", b"chunked, identity", b"xchunked",
               b"chunked\xff", b"CHUNKED", b" chunked", b"chunked, chunked",
               b"identity", b"\x00"):
        cases.append(http_case(
            "chunked", "Transfer-Encoding: %r" % te,
            build(b"POST", b"/hitl/patches/nothing-here/approve",
                  [bearer(t.alice), json_type, (b"Transfer-Encoding", te)],
                  None) + good,
            [None if b"\x00" in te else bad | route | {411}],
            half_close=True))
    cases.append(http_case(
        "chunked", "two Transfer-Encoding headers",
        build(b"POST", b"/hitl/patches/nothing-here/approve",
              [bearer(t.alice), json_type, (b"Transfer-Encoding", b"chunked"),
               (b"Transfer-Encoding", b"chunked")], None) + good,
        [bad | route], half_close=True))
    return cases


def content_length(t):
    url = b"/hitl/patches/nothing-here/approve"
    h = [bearer(t.alice)]
    cases = []
    for value in (b"-1", b"abc", b"+19", b"19, 19", b"19, 20", b"0x13",
                  b"\xff", b"99999999999999999999999", b"18446744073709551616",
                  b"9223372036854775808", b" 19"):
        cases.append(http_case(
            "Content-Length", "Content-Length %r" % value,
            build(b"POST", url, h, b'{"decision_id":"x"}',
                  content_length=value),
            [FRAMING | {404, 413}], half_close=True))
    cases.append(http_case(
        "Content-Length", "two different Content-Lengths",
        build(b"POST", url, h + [(b"Content-Length", b"5")],
              b'{"decision_id":"x"}'), [FRAMING], half_close=True))
    return cases


def oversized(t):
    """SPEC §10: 414 beyond the request-line limit, 431 beyond the header
    limits, 413 from a Content-Length beyond max_body_bytes, each before the
    rest is read. Just beyond a limit the answer is required; far beyond it
    (a megabyte) a server that answers and stops reading may reset the
    connection before our read sees the answer, so a close is accepted
    there (counted as a close)."""
    line = LIMITS["max_request_line_bytes"]
    one = LIMITS["max_header_bytes"]
    total = LIMITS["max_headers_total_bytes"]
    count = LIMITS["max_header_count"]
    s = [bearer(t.svc)]
    target = b"/hitl/decisions/" + b"x" * line
    cases = [
        http_case("oversized", "request target one limit long",
                  build(b"GET", target, s), [frozenset({414})]),
        http_case("oversized", "query one limit long",
                  build(b"GET", b"/hitl/patches/pending?cursor=" + b"x" * line,
                        [bearer(t.alice)]), [frozenset({414})]),
        http_case("oversized", "request target of 1 MiB",
                  build(b"GET", b"/" + b"x" * (1 << 20), s),
                  [frozenset({414, NONE})]),
        http_case("oversized", "one header one limit long",
                  build(b"GET", b"/health", [(b"X-Big", b"v" * one)]),
                  [frozenset({431})]),
        http_case("oversized", "one header name one limit long",
                  build(b"GET", b"/health", [(b"X" * one, b"v")]),
                  [frozenset({431})]),
        http_case("oversized", "Authorization one limit long",
                  build(b"GET", b"/health",
                        [(b"Authorization", b"Bearer " + b"t" * one)]),
                  [frozenset({431})]),
        http_case("oversized", "one header of 1 MiB",
                  build(b"GET", b"/health", [(b"X-Big", b"v" * (1 << 20))]),
                  [frozenset({431, NONE})]),
        http_case("oversized", "one header more than allowed",
                  build(b"GET", b"/health",
                        [(b"X-H%d" % i, b"v") for i in range(count + 1)]),
                  [frozenset({431})]),
        http_case("oversized", "twenty thousand headers",
                  build(b"GET", b"/health",
                        [(b"X-H%d" % i, b"v") for i in range(20000)]),
                  [frozenset({431, NONE})]),
        http_case("oversized", "all headers beyond their total",
                  build(b"GET", b"/health",
                        [(b"X-H%d" % i, b"v" * (one // 2))
                         for i in range(total // (one // 2) + 1)]),
                  [frozenset({431})]),
    ]
    cases.append(http_case(
        "oversized", "Content-Length one byte beyond max_body_bytes",
        build(b"POST", b"/hitl/admin/create-decision", s,
              b'{"decision_id":"x"}',
              content_length=str(MAX_BODY_BYTES + 1).encode()),
        [frozenset({413})]))
    cases.append(http_case(
        "oversized", "Content-Length of 1 TB",
        build(b"POST", b"/hitl/admin/create-decision", s, b"{",
              content_length=b"1000000000000"),
        [frozenset({413})]))
    cases.append(http_case(
        "oversized", "body of max_body_bytes + 1, all sent",
        build(b"POST", b"/hitl/admin/create-decision", s,
              b" " * (MAX_BODY_BYTES + 1)),
        [frozenset({413, NONE})]))
    return cases
