"""WebSocket abuse: upgrade requests with bad keys and versions, garbage
after a valid upgrade, and frames that declare more than SPEC §10 lets one
message hold (close 1009, never allocated)."""

import base64

from case import NONE, http_case
from http_request import bearer
from service import LIMITS
import websocket_frames as wsf
from websocket_frames import BINARY, CLOSE, CONTINUATION, PING, TEXT, frame


class ws_case:
    """Frames sent after a valid upgrade (service token). `close_codes`
    None: any reaction is fine (recorded for the report); otherwise the
    server must send a close frame with one of those codes."""
    kind = "ws"

    def __init__(self, group, name, frames, close_codes=None, frame_count=1):
        self.group = group
        self.name = name
        self.frames = frames
        self.close_codes = close_codes
        self.frame_count = frame_count
        self.requests = 1  # the upgrade

    def describe(self):
        return "%s: %s" % (self.group, self.name)


def handshakes(t):
    """RFC 6455 §4.2.1-4.2.2: a handshake without a valid key or version 13
    is refused with an HTTP error (400, or 426 naming the version), never
    upgraded."""
    auth = [bearer(t.svc)]
    bad = frozenset({400, 426})
    cases = []
    for label, key, version in (
            ("no key", b"", None), ("key not base64", b"!!!", None),
            ("key of 8 bytes", base64.b64encode(b"12345678"), None),
            ("key of 1000 characters", b"A" * 1000, None),
            ("key 0xFF", b"\xff\xfe", None),
            ("no version", None, b""), ("version 12", None, b"12"),
            ("version 99", None, b"99"), ("version 0xFF", None, b"\xff"),
            ("version 13, 8", None, b"13, 8")):
        cases.append(http_case("websocket handshake", label,
                               wsf.upgrade_request(0, auth, key=key,
                                                   version=version), [bad]))
    upgrade = wsf.upgrade_request(0, auth)
    cases += [
        http_case("websocket handshake", "Upgrade: websocketx",
                  upgrade.replace(b"Upgrade: websocket", b"Upgrade: websocketx"),
                  [bad]),
        http_case("websocket handshake", "Connection: close",
                  upgrade.replace(b"Connection: Upgrade", b"Connection: close"),
                  [bad]),
        http_case("websocket handshake", "POST",
                  upgrade.replace(b"GET ", b"POST ", 1),
                  [frozenset({400, 405, 426})]),
        http_case("websocket handshake", "HTTP/1.0",
                  upgrade.replace(b"HTTP/1.1", b"HTTP/1.0", 1), [bad]),
        http_case("websocket handshake", "two keys",
                  upgrade.replace(b"\r\n\r\n",
                                  b"\r\nSec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="
                                  b"\r\n\r\n"), [bad | {101}]),
        http_case("websocket handshake", "no token",
                  wsf.upgrade_request(0, []), [frozenset({401})]),
    ]
    return cases


def garbage(rng, random_rounds):
    """RFC 6455 protocol errors. The server should fail the connection
    (close 1002/1007, or drop it); SPEC does not name the code, so the
    reaction is recorded, and only the global rules apply."""
    cases = []
    g = "websocket garbage"

    def add(name, frames, count=1):
        cases.append(ws_case(g, name, frames, None, count))

    for i in range(random_rounds):
        add("random bytes %d" % i,
            bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2048))))
    add("unmasked text frame", frame(TEXT, b"hello", masked=False))
    for op in (3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF):
        add("reserved opcode 0x%x" % op, frame(op, b"x"))
    for rsv in (1, 2, 4, 7):
        add("RSV bits %d" % rsv, frame(TEXT, b"x", rsv=rsv))
    add("16-bit length for 5 bytes", frame(TEXT, b"hello", length_form=16))
    add("64-bit length for 5 bytes", frame(TEXT, b"hello", length_form=64))
    add("continuation without a start", frame(CONTINUATION, b"x"))
    add("10,000 continuations without a start",
        b"".join(frame(CONTINUATION, b"x", fin=False) for _ in range(10000)),
        10000)
    add("a message in 10,000 fragments",
        frame(TEXT, b"a", fin=False)
        + b"".join(frame(CONTINUATION, b"x", fin=False) for _ in range(9999))
        + frame(CONTINUATION, b"z"), 10001)
    add("fragmented ping", frame(PING, b"a", fin=False)
        + frame(CONTINUATION, b"b"), 2)
    add("fragmented close", frame(CLOSE, b"\x03", fin=False)
        + frame(CONTINUATION, b"\xe8"), 2)
    add("ping inside a fragmented message",
        frame(TEXT, b"a", fin=False) + frame(PING, b"p")
        + frame(CONTINUATION, b"b"), 3)
    add("ping of 126 bytes", frame(PING, b"p" * 126))
    add("ping of 125 bytes", frame(PING, b"p" * 125))
    for code in (0, 999, 1005, 1006, 1015, 2999, 5000, 65535):
        add("close code %d" % code, frame(CLOSE, code.to_bytes(2, "big")))
    add("close with 1 byte", frame(CLOSE, b"\x03"))
    add("close reason not UTF-8", frame(CLOSE, b"\x03\xe8\xff\xfe"))
    add("text not UTF-8", frame(TEXT, b"\xff\xfe\xc3\x28"))
    add("1,000 pings", frame(PING, b"x") * 1000, 1000)
    add("binary of 60 KiB", frame(BINARY, bytes(61440)))
    add("half a frame header", b"\x81")
    add("header without its mask key", b"\x81\x85")
    return cases


def _limit_cases():
    limit = LIMITS["max_ws_message_bytes"]
    return limit, frozenset({1009})


def declared(t):
    """SPEC §10: a message beyond max_ws_message_bytes ends with close 1009,
    and it is never allocated, whatever length a frame declares: here only
    the header and a few bytes are sent. A length with the top bit set is
    also a protocol error (RFC 6455 §5.2), so 1002 is as good an answer
    there."""
    limit, too_long = _limit_cases()
    g = "websocket oversized: declared"
    return [
        ws_case(g, "a frame declaring 2^62 bytes",
                frame(TEXT, b"x" * 16, declared_length=1 << 62), too_long),
        ws_case(g, "a frame declaring 2^40 bytes",
                frame(BINARY, b"x" * 16, declared_length=1 << 40), too_long),
        ws_case(g, "a frame declaring 1 GiB",
                frame(BINARY, b"x" * 16, declared_length=1 << 30), too_long),
        ws_case(g, "a frame declaring 2^63 + 5 bytes",
                frame(BINARY, b"x" * 16, declared_length=(1 << 63) + 5),
                frozenset({1002, 1009})),
        ws_case(g, "a frame declaring limit + 1 bytes",
                frame(BINARY, b"x" * 16, declared_length=limit + 1), too_long),
    ]


def sent(t):
    """Messages beyond the limit that are really sent: in one frame, and in
    fragments that are each small (SPEC §10 bounds the message)."""
    limit, too_long = _limit_cases()
    g = "websocket oversized: sent"
    piece = 16384
    pieces = limit // piece + 2
    return [
        ws_case(g, "one byte beyond the limit, all sent",
                frame(BINARY, bytes(limit + 1)), too_long),
        ws_case(g, "%d fragments of 16 KiB" % pieces,
                frame(TEXT, b"a" * piece, fin=False)
                + b"".join(frame(CONTINUATION, b"a" * piece, fin=False)
                           for _ in range(pieces - 2))
                + frame(CONTINUATION, b"a" * piece), too_long, pieces),
        ws_case(g, "2,100 fragments of 64 bytes",
                frame(TEXT, b"a" * 64, fin=False)
                + b"".join(frame(CONTINUATION, b"a" * 64, fin=False)
                           for _ in range(2098))
                + frame(CONTINUATION, b"a" * 64), too_long, 2100),
    ]
