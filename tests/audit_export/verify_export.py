#!/usr/bin/env python3
"""An independent verifier of a HITL audit export (JSONL), written from the
format as persistence/README.md documents it, with no code of the service.

    verify_export.py EXPORT PUBLIC_KEY_PEM

Exit 0 and "intact" when every entry's hash matches its content, each entry
links to the one before, and each checkpoint is signed by the key and agrees
with the exported entry at its seq; otherwise exit 2 and the line of the
first fault. Needs python3-cryptography (Debian).
"""

import base64
import hashlib
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64


def compact(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def entry_hash(e):
    canonical = compact({k: e[k] for k in (
        "action", "decision_id", "details", "ip_address", "performed_by",
        "seq", "timestamp", "user_agent")})
    return hashlib.sha256((e["prev_hash"] + canonical).encode()).hexdigest()


def key_id(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw,
                                  serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_fault(c, public_key):
    if c.get("key_id") != key_id(public_key):
        return "signed by key %s, not by the given key %s" % (
            c.get("key_id"), key_id(public_key))
    signed = compact({k: c[k] for k in ("at", "count", "hash", "key_id",
                                        "seq")})
    try:
        public_key.verify(base64.b64decode(c["signature"], validate=True),
                          signed.encode())
    except (InvalidSignature, ValueError):
        return "the signature does not verify"
    return None


def verify(path, public_key):
    """Returns (line, message) of the first fault, or None."""
    faults = []
    entries = {}  # seq -> (line, hash, entries up to it)
    checkpoints = []
    previous = None
    from_genesis = False
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, start=1):
            try:
                obj = json.loads(text)
            except ValueError:
                faults.append((n, "not JSON"))
                break
            kind = obj.get("type")
            if kind == "checkpoint":
                checkpoints.append((n, obj))
                continue
            if kind != "entry":
                faults.append((n, "unknown line type %r" % kind))
                break
            try:
                seq = obj["seq"]
                if previous is None:
                    from_genesis = seq == 1
                    if from_genesis and obj["prev_hash"] != GENESIS:
                        faults.append((n, "seq 1 does not start at genesis"))
                        break
                elif seq != previous[1]["seq"] + 1:
                    faults.append((n, "seq %d follows seq %d" % (
                        seq, previous[1]["seq"])))
                    break
                elif obj["prev_hash"] != previous[1]["hash"]:
                    faults.append((n, "prev_hash does not link to line %d"
                                   % previous[0]))
                    break
                if entry_hash(obj) != obj["hash"]:
                    faults.append((n, "hash does not match the entry"))
                    break
            except (KeyError, TypeError) as e:
                faults.append((n, "malformed entry: %s" % e))
                break
            entries[seq] = (n, obj["hash"], len(entries) + 1)
            previous = (n, obj)
    for n, c in checkpoints:
        why = checkpoint_fault(c, public_key)
        if why is None:
            at = entries.get(c.get("seq"))
            if at is None:
                why = "no exported entry has seq %s" % c.get("seq")
            elif at[1] != c["hash"]:
                why = "hash differs from the entry on line %d" % at[0]
            elif from_genesis and at[2] != c["count"]:
                why = "count %d, but %d entries lead up to it" % (
                    c["count"], at[2])
        if why is not None:
            faults.append((n, "checkpoint seq %s: %s" % (c.get("seq"), why)))
    return min(faults) if faults else None


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 1
    with open(argv[2], "rb") as f:
        public_key = serialization.load_pem_public_key(f.read())
    if not isinstance(public_key, Ed25519PublicKey):
        print("not an Ed25519 public key", file=sys.stderr)
        return 1
    fault = verify(argv[1], public_key)
    if fault:
        print("export BROKEN at line %d: %s" % fault)
        return 2
    print("export intact")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
