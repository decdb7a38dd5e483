"""The hostile values put into paths, queries and headers, and the rules that
say which of them a parser may refuse to frame and which a route must
refuse (SPEC §10: ids are 1-255 of [A-Za-z0-9._:-]; query values and path
parameters are valid UTF-8 without control characters)."""

import re

VALUES = [
    # invalid UTF-8: lone bytes, truncated and overlong sequences,
    # surrogates, code points beyond U+10FFFF, 5-byte forms
    b"a\xff", b"\xff", b"\xfe\xff", b"\x80", b"\xc3\x28", b"\xa0\xa1",
    b"\xe2\x28\xa1", b"\xe2\x82\x28", b"\xf0\x28\x8c\xbc", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xc0\x80", b"\xe0\x80\xaf",
    b"\xf8\x88\x80\x80\x80", b"\xc3",
    # valid UTF-8 that is still no id: accents, emoji, bidi override, BOM
    b"\xc3\xa9t\xc3\xa9", b"\xf0\x9f\x92\xa9", b"\xe2\x80\xae", b"\xef\xbb\xbf",
    # control characters, CR/LF injection
    b"\x00", b"a\x00b", b"\x01", b"\x1b[31m", b"\x7f", b"\t", b"\x0b", b"\x0c",
    b"\r", b"\n", b"a\r\nX-Injected: 1", b"a\r\n\r\nGET /health HTTP/1.1",
    b" ",
    # percent-escapes of the same, and broken ones
    b"%00", b"%ff", b"%FF", b"%C3%28", b"%ED%A0%80", b"%C0%AF",
    b"%0d%0aX-Injected:%201", b"%", b"%%", b"%zz", b"a%", b"%2F", b"%2e%2e",
    # structure and injection attempts
    b"..", b".", b"-", b"'", b'"', b"<script>alert(1)</script>",
    b"' OR 1=1--", b"${jndi:ldap://x}", b"{{7*7}}", b"\\", b"a;b", b"a,b",
    b"a b", b"x" * 255, b"x" * 256, b"",
]

_ID = re.compile(rb"[A-Za-z0-9._:-]{1,255}\Z")
_TCHAR = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")


def valid_id(v):
    return bool(_ID.match(v))


def breaks_request_line(v):
    """Bytes no request-target may hold raw (RFC 9112 §3): the HTTP parser
    may refuse to frame the request (FRAMING) or pass them on."""
    return any(b <= 0x20 or b == 0x7F for b in v)


def restructures_request_line(v):
    """A space, CR or LF ends the request-target (or the request line) early:
    what follows becomes the version, a header or another request, so the
    route and even the token may not be what was meant. Only the global
    rules can hold for such a request."""
    return any(b in b" \r\n" for b in v)


def breaks_header_value(v):
    """Control characters other than HTAB are not field content (RFC 9110
    §5.5); bytes 0x80-0xFF are (obs-text) and must be taken."""
    return any((b < 0x20 and b != 0x09) or b == 0x7F for b in v)


def token_name(v):
    return bool(_TCHAR.match(v))


def valid_text(v):
    """Valid UTF-8 without control characters."""
    try:
        s = v.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not any(ord(c) < 0x20 or ord(c) == 0x7F for c in s)


def percent_encoded(v):
    return b"".join(b"%%%02X" % b for b in v)


def percent_decoded(v):
    """The query value as a server decodes it (`+` is a space), or None
    when its escapes are broken."""
    out = bytearray()
    i = 0
    while i < len(v):
        c = v[i]
        if c == 0x25:  # %
            h = v[i + 1:i + 3]
            if len(h) < 2 or not re.match(rb"[0-9A-Fa-f]{2}\Z", h):
                return None
            out.append(int(h, 16))
            i += 3
            continue
        out.append(0x20 if c == 0x2B else c)
        i += 1
    return bytes(out)
