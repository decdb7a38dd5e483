#!/usr/bin/env python3
"""An independent verifier of a HITL audit export (JSONL), written from the
format as persistence/README.md documents it, with no code of the service.

    verify_export.py EXPORT PUBLIC_KEY_PEM

Exit 0 and "intact" when every entry's hash matches its content, each entry
links to the one before it in its chain (the common prefix, or its
partition's), and each checkpoint is signed by the key and agrees with the
exported entries at the heads it names; otherwise exit 2 and the line of the
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
    # An entry of a partition's chain: its place there, not its seq.
    if "partition" in e:
        keys = ("action", "decision_id", "details", "epoch", "ip_address",
                "partition", "performed_by", "pseq", "timestamp",
                "user_agent")
    else:
        keys = ("action", "decision_id", "details", "ip_address",
                "performed_by", "seq", "timestamp", "user_agent")
    canonical = compact({k: e[k] for k in keys})
    return hashlib.sha256((e["prev_hash"] + canonical).encode()).hexdigest()


def chains_root(prefix, heads):
    text = "prefix %d %s\n" % (prefix[0], prefix[1])
    for partition, pseq, digest in heads:
        text += "%d %d %s\n" % (partition, pseq, digest)
    return hashlib.sha256(text.encode()).hexdigest()


def key_id(public_key):
    raw = public_key.public_bytes(serialization.Encoding.Raw,
                                  serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_fault(c, public_key):
    if c.get("key_id") != key_id(public_key):
        return "signed by key %s, not by the given key %s" % (
            c.get("key_id"), key_id(public_key))
    members = ["at", "count", "hash", "key_id", "seq"]
    if "heads" in c or "prefix" in c:
        members += ["heads", "prefix"]
    signed = compact({k: c[k] for k in members})
    try:
        public_key.verify(base64.b64decode(c["signature"], validate=True),
                          signed.encode())
    except (InvalidSignature, ValueError):
        return "the signature does not verify"
    if "heads" in c:
        if chains_root(c["prefix"], c["heads"]) != c["hash"]:
            return "its hash is not the root of its heads"
        if c["prefix"][0] + sum(h[1] for h in c["heads"]) != c["count"]:
            return "its count is not the number of entries its heads say"
    return None


def heads_of(c):
    """(chain, place, hash) of each head a checkpoint names; chain None is
    the common prefix."""
    if "heads" not in c:
        return [(None, c.get("seq"), c.get("hash"))]
    heads = [(p, pseq, digest) for p, pseq, digest in c["heads"]]
    if c["prefix"][0] > 0:
        heads.append((None, c["prefix"][0], c["prefix"][1]))
    return heads


def verify(path, public_key):
    """Returns (line, message) of the first fault, or None."""
    faults = []
    entries = {}  # (chain, place) -> (line, hash, entries up to it)
    ends = {}  # chain -> (first place, last place, last hash, line)
    checkpoints = []
    last_seq = None
    from_genesis = False
    prefix_closed = False
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
                chain = obj.get("partition")
                place = obj["pseq"] if chain is not None else seq
                if last_seq is None:
                    from_genesis = seq == 1
                    if from_genesis:
                        ends[None] = (1, 0, GENESIS, 0)
                elif seq <= last_seq:
                    faults.append((n, "seq %d follows seq %d" % (
                        seq, last_seq)))
                    break
                if chain is None and prefix_closed:
                    faults.append((n, "an entry of the prefix after "
                                      "entries of partitions"))
                    break
                if chain is not None and not prefix_closed:
                    prefix_closed = True
                    if from_genesis:
                        start = ends[None][2]
                        for p in range(256):
                            ends[p] = (1, 0, start, 0)
                end = ends.get(chain)
                if end is None:
                    end = (place, place - 1, obj["prev_hash"], 0)
                if place != end[1] + 1:
                    faults.append((n, "place %d of chain %s follows %d" % (
                        place, chain, end[1])))
                    break
                if obj["prev_hash"] != end[2]:
                    faults.append((n, "prev_hash does not link to line %d"
                                   % end[3]))
                    break
                if entry_hash(obj) != obj["hash"]:
                    faults.append((n, "hash does not match the entry"))
                    break
            except (KeyError, TypeError) as e:
                faults.append((n, "malformed entry: %s" % e))
                break
            entries[(chain, place)] = (n, obj["hash"], len(entries) + 1)
            ends[chain] = (end[0], place, obj["hash"], n)
            last_seq = seq
    for n, c in checkpoints:
        why = checkpoint_fault(c, public_key)
        if why is None:
            for chain, place, digest in heads_of(c):
                at = entries.get((chain, place))
                if at is None:
                    end = ends.get(chain)
                    owed = ("heads" not in c or from_genesis
                            or (end is not None and end[0] <= place))
                    if owed:
                        why = "no exported entry is place %s of chain %s" % (
                            place, chain)
                        break
                elif at[1] != digest:
                    why = "hash differs from the entry on line %d" % at[0]
                    break
                elif ("heads" not in c and from_genesis
                      and at[2] != c["count"]):
                    why = "count %d, but %d entries lead up to it" % (
                        c["count"], at[2])
                    break
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
