"""Requests as bytes, put together without any check, so that every part of
them can be hostile; and the valid bodies the hostile ones start from."""

import json


def build(method, target, headers=(), body=None, content_length=None,
          content_type=b"application/json", host=b"127.0.0.1"):
    """One HTTP/1.1 request. Content-Length is the body's unless given (as
    bytes, sent verbatim); content_type None leaves it out."""
    lines = [method + b" " + target + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + host)
    for name, value in headers:
        lines.append(name + b": " + value)
    if body is not None:
        if content_type is not None:
            lines.append(b"Content-Type: " + content_type)
        if content_length is None:
            content_length = str(len(body)).encode()
        lines.append(b"Content-Length: " + content_length)
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def bearer(token):
    return (b"Authorization", b"Bearer " + token)


def create_body(decision_id, patch_id, **overrides):
    """The README's create-decision body: pending after creation (confidence
    0.91 is below the auto-approval threshold), one reviewer approves it."""
    doc = {
        "decision_id": decision_id,
        "patch_id": patch_id,
        "patch_metadata": {
            "apv_id": "apv-7", "cve_id": "CVE-2026-1234",
            "package_name": "openssl", "current_version": "3.0.1",
            "target_version": "3.0.2", "severity": "high", "cvss_score": 8.1},
        "ml_prediction": {"model_version": "xgb-7", "confidence": 0.91,
                          "prediction": True},
        "wargaming_result": {"phase1_success": True, "phase2_success": True,
                             "validation_passed": True},
    }
    doc.update(overrides)
    return json.dumps(doc).encode()


# A valid body for each verdict route, naming a decision that does not
# exist (the patch in the path does not exist either).
VERDICT_BODIES = {
    b"approve": b'{"decision_id":"x"}',
    b"reject": b'{"decision_id":"x","reason":"r"}',
    b"comment": b'{"decision_id":"x","comment":"c"}',
    b"cancel": b'{"decision_id":"x"}',
}
