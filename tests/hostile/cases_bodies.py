"""Hostile JSON bodies on the create and verdict routes: random bytes, deep
nesting, huge numbers, duplicate keys, invalid UTF-8, NUL bytes. Each is a
well-framed request, so each must be answered: 400 (not JSON) or 422 (JSON,
but invalid), never a 5xx."""

import json

from case import http_case
from http_request import bearer, build, create_body

REFUSED = frozenset({400, 422})


def _create_variants():
    """(label, body bytes, acceptable statuses). Each body has its own
    decision id, so that one that is taken cannot make another a 409."""
    out = []
    serial = [0]

    def fresh():
        serial[0] += 1
        return create_body("hostile-body-%d" % serial[0],
                           "hostile-body-%d-p" % serial[0])

    def doc(label, **changes):
        d = json.loads(fresh())
        for path, value in changes.items():
            node = d
            keys = path.split("__")
            for k in keys[:-1]:
                node = node[k]
            node[keys[-1]] = value
        out.append((label, json.dumps(d).encode(), REFUSED))

    def raw(label, text, ok=REFUSED):
        out.append((label, text, ok))

    n = 100000
    raw("100,000 [", b"[" * n)
    raw("100,000 [ then ]", b"[" * n + b"]" * n)
    raw("100,000 {\"a\":", b'{"a":' * n)
    raw("100,000 nested objects, closed", b'{"a":' * n + b"1" + b"}" * n)
    raw("nesting inside a field",
        fresh()[:-1] + b', "shap_values": ' + b"[" * n
        + b"]" * n + b"}")
    raw("cvss_score 1e999999", fresh().replace(
        b'"cvss_score": 8.1', b'"cvss_score": 1e999999'))
    raw("confidence -1e400", fresh().replace(
        b'"confidence": 0.91', b'"confidence": -1e400'))
    raw("confidence of 5000 digits", fresh().replace(
        b'"confidence": 0.91', b'"confidence": 0.' + b"9" * 5000),
        frozenset({201, 400, 422}))
    raw("cvss_score a 400-digit integer", fresh().replace(
        b'"cvss_score": 8.1', b'"cvss_score": ' + b"9" * 400))
    raw("NaN", fresh().replace(b"0.91", b"NaN"))
    raw("Infinity", fresh().replace(b"0.91", b"Infinity"))
    raw("-0", fresh().replace(b"0.91", b"-0"), frozenset({201, 400, 422}))
    raw("duplicate decision_id", b'{"decision_id":"hostile-dup-a",'
        + create_body("hostile-dup-b", "hostile-dup-p")[1:],
        frozenset({200, 201, 400, 422}))
    raw("duplicate nested keys", create_body("hostile-dup2", "hostile-dup2-p")
        .replace(b'"severity": "high"',
                 b'"severity": "high", "severity": "critical"'),
        frozenset({200, 201, 400, 422}))
    raw("invalid UTF-8 in decision_id", fresh().replace(
        b'"hostile-body-', b'"\xffhostile-body-', 1), frozenset({400}))
    raw("invalid UTF-8 in package_name", fresh().replace(
        b'"openssl"', b'"open\xc3\x28ssl"'), frozenset({400}))
    raw("surrogate bytes in a string", fresh().replace(
        b'"openssl"', b'"\xed\xa0\x80"'), frozenset({400}))
    raw("overlong UTF-8 in a string", fresh().replace(
        b'"openssl"', b'"\xc0\xaf"'), frozenset({400}))
    raw("lone surrogate escape", fresh().replace(
        b'"openssl"', b'"\\ud800"'), frozenset({400, 422}))
    raw("raw NUL inside a string", fresh().replace(
        b'"openssl"', b'"open\x00ssl"'), frozenset({400}))
    raw("raw NUL after the document", fresh() + b"\x00",
        frozenset({400}))
    raw("NUL bytes only", b"\x00" * 64, frozenset({400}))
    raw("escaped NUL in decision_id", fresh().replace(
        b'"hostile-body-', b'"\\u0000hostile-body-', 1), frozenset({422}))
    raw("escaped NUL in package_name", fresh().replace(
        b'"openssl"', b'"\\u0000"'), frozenset({201, 422}))
    raw("BOM first", b"\xef\xbb\xbf" + create_body("hostile-bom", "hostile-bom-p"),
        frozenset({200, 201, 400}))
    raw("a string of 900 KB", fresh().replace(
        b'"openssl"', b'"' + b"a" * 900000 + b'"'), REFUSED)
    raw("an array of 200,000 numbers", fresh()[:-1]
        + b', "shap_values": [' + b"1," * 199999 + b"1]}",
        frozenset({201, 400, 422}))
    raw("empty", b"", frozenset({400, 415, 422}))
    for literal in (b"null", b"[]", b'"x"', b"1", b"true", b"{}", b"{", b"}",
                    b'{"a"', b'{"a":}', b"[1,]", b"{'a':1}", b"\\"):
        raw("literal %r" % literal, literal)
    doc("decision_id of 10,000 characters", decision_id="d" * 10000)
    doc("decision_id as a number", decision_id=12345678901234567890)
    doc("decision_id as an object", decision_id={"$ne": None})
    doc("severity as an array", patch_metadata__severity=["high"])
    doc("cvss_score as a string", patch_metadata__cvss_score="8.1")
    doc("confidence 2", ml_prediction__confidence=2)
    doc("decision approved", decision="approved")
    doc("decided_by set", decided_by="mallory")
    doc("auto_approval_eligible", auto_approval_eligible=True)
    doc("control characters in package_name",
        patch_metadata__package_name="\x01\x02\x1b[31m")
    out[-1] = (out[-1][0], out[-1][1], frozenset({201, 422}))
    doc("patch_metadata null", patch_metadata=None)
    return out


def bodies(t, rng, random_rounds):
    cases = []
    svc = [bearer(t.svc)]
    for label, body, ok in _create_variants():
        cases.append(http_case("bodies: create", label,
                               build(b"POST", b"/hitl/admin/create-decision",
                                     svc, body), [ok]))
    for i in range(random_rounds):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4096)))
        cases.append(http_case("bodies: create", "random bytes %d" % i,
                               build(b"POST", b"/hitl/admin/create-decision",
                                     svc, body), [REFUSED]))
    # The verdict routes parse their body before the patch is looked up:
    # a bad body is 400/422, a good one 404 (the patch does not exist).
    verdict_bodies = [
        b"[" * 100000, b'{"decision_id":"\xff"}', b'{"comment":"\xc3\x28"}',
        b'{"decision_id":"x","comment":"' + b"c" * 900000 + b'"}',
        b'{"decision_id":"x","decision_id":"y"}', b'{"reason":1e999999}',
        b'{"decision_id":"\\u0000"}', b"\x00" * 16, b"null", b"[]", b"{",
    ]
    for verb in (b"approve", b"reject", b"comment", b"cancel"):
        token = t.svc if verb == b"cancel" else t.alice
        for body in verdict_bodies:
            cases.append(http_case(
                "bodies: " + verb.decode(), "body %r" % body[:40],
                build(b"POST", b"/hitl/patches/nothing-here/" + verb,
                      [bearer(token)], body),
                [frozenset({400, 404, 422})]))
    # Comments that are valid JSON with hostile text go into the audit
    # trail; the chain must still verify at the end.
    fixture = b"/hitl/patches/" + t.fixture_patch + b"/comment"
    for text in ("\u202e\u0000\u001b[31m", "\U0001F4A9" * 1000,
                 "\\\"'<>&", "\ufeff\ufffe\uffff", "a" * 10000,
                 "\u00e9t\u00e9 \u4e2d\u6587 \u0627\u0644"):
        body = json.dumps({"comment": text}).encode()
        cases.append(http_case(
            "bodies: comment", "comment text %r" % text[:20],
            build(b"POST", fixture, [bearer(t.alice)], body),
            [frozenset({201, 422})]))
    return cases
