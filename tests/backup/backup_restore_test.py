"""Backup and restore (issue 22 §6; the procedure is deploy/backup/README.md).

A real `hitl serve` on the source cluster, as the runtime role, with short
SLAs, signed checkpoints to a file "off the database host" and a webhook
receiver that is down (503). Three threads create, approve and comment
while `pg_dump -Fc` runs; every acknowledged answer is logged with the
time it came. Then the load and the service stop, the roles
(`pg_dumpall --roles-only`) and the dump are restored into a new cluster,
and a new `hitl serve` starts on the restored database. Checks, each
counted:

- the restored database holds every row the dump holds, table by table;
- every write acknowledged before pg_dump started is there;
- every decision of the dump answers on the new node over HTTP;
- the off-host checkpoint file, which goes on past the dump, is
  contradicted by the restored chain (verify sees the rollback), and
  `hitl audit verify` holds with the lines the restore confirms and the
  database's own checkpoints;
- decisions whose deadline passed while nothing ran escalate promptly,
  and those whose deadline falls after the restore escalate then, not
  before (seen through GET on the new node and the audit log); no level
  is escalated twice;
- the outbox rows the dump held are delivered by the new node under
  their own delivery ids;
- at the end, verify with the continued checkpoint file passes.

--break WHAT restores wrongly on purpose, so that one sees checks fail:
audit-data (the audit log's rows left out), grants (pg_restore
--no-privileges), checkpoint-file (the restored node keeps appending to the
uncut file).
"""

import argparse
import os
import subprocess
import sys
import threading
import time

from backup_load import ledger, worker
from backup_receiver import receiver
from dump_restore import dump_rows, restore
from hitl_processes import (MAX_LEVEL, conninfo, psql, request, run, service,
                            verify, write_config)

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cluster"))
from harness import eventually  # noqa: E402

LOAD_BEFORE_DUMP = 4.0
LOAD_AFTER_DUMP = 3.0  # checkpoints are signed past the dump's snapshot
PROMPT = 20.0         # "promptly": a bound, generous for a loaded machine
TABLES = ["hitl_decisions", "hitl_audit_logs", "hitl_approvals",
          "hitl_comments", "hitl_outbox", "hitl_audit_checkpoints",
          "hitl_partitions", "hitl_api_tokens"]


class checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print("PASS " + what)
        else:
            self.failed += 1
            # verify names every faulty decision: its first lines say why.
            lines = detail.splitlines()
            if len(lines) > 6:
                detail = "\n".join(lines[:6] + ["... (%d lines more)"
                                                 % (len(lines) - 6)])
            print("FAIL " + what + (": " + detail if detail else ""))
        sys.stdout.flush()
        return ok


class run_state:
    """What one phase leaves to the next."""

    def __init__(self, args):
        self.args = args
        self.binary = os.environ["HITL_BINARY"]
        self.out = args.out
        self.offhost = os.path.join(args.out, "offhost")  # another host's disk
        os.makedirs(self.offhost, exist_ok=True)
        self.c = checks()
        self.services = []
        self.hooks = receiver()
        self.tokens = {}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-port", type=int, required=True)
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--break", dest="break_", default=None,
                    choices=["audit-data", "grants", "checkpoint-file"])
    st = run_state(ap.parse_args())
    try:
        if load_and_dump(st):
            restore_and_check_content(st)
            check_checkpoint_files(st)
            if start_restored_node(st):
                check_restored_node(st)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        st.c.check(False, "the test ran to its end", str(e))
    finally:
        for s in st.services:
            s.stop()
    print("backup: %d passed, %d failed" % (st.c.passed, st.c.failed))
    return 0 if st.c.failed == 0 else 1


def load_and_dump(st):
    """The source: roles, schema, tokens, key; serve under load; pg_dump
    and pg_dumpall while it runs; then everything on it stops."""
    port = st.args.source_port
    admin = conninfo(port, "postgres", "postgres")
    owner = conninfo(port, "hitl", "hitl_owner")
    psql(admin, "CREATE ROLE hitl_owner LOGIN")
    psql(admin, "CREATE ROLE hitl_runtime LOGIN")
    psql(admin, "CREATE DATABASE hitl OWNER hitl_owner")
    run([st.binary, "migrate", "--database-url", owner, "--runtime-role",
         "hitl_runtime"], "hitl migrate")
    for name, role in [("wargaming", "service"), ("alice", "reviewer"),
                       ("bob", "reviewer")]:
        st.tokens[name] = run([st.binary, "token", "create", "--name", name,
                               "--role", role, "--database-url", owner],
                              "token create").splitlines()[0]
    st.key = os.path.join(st.out, "checkpoint.pem")
    st.public_key = os.path.join(st.offhost, "checkpoint.pub.pem")
    with open(st.public_key, "w") as f:
        f.write(run([st.binary, "key", "create", "--out", st.key],
                    "key create"))
    st.checkpoints = os.path.join(st.offhost, "checkpoints.jsonl")
    config = os.path.join(st.out, "source.json")
    write_config(config, st.key, st.checkpoints, st.hooks.url)

    st.hooks.answer(503)   # the receiver is down: the outbox fills
    origin = service(st.binary, conninfo(port, "hitl", "hitl_runtime"),
                     config, os.path.join(st.out, "source-serve.log"))
    st.services.append(origin)
    if not st.c.check(origin.ready(), "the source service starts as the "
                      "runtime role", last_line(origin.log_path)):
        return False

    st.book = ledger()
    stop = threading.Event()
    threads = [threading.Thread(target=worker, args=(
        w, origin.port, st.tokens, st.book, stop)) for w in range(3)]
    for t in threads:
        t.start()
    time.sleep(LOAD_BEFORE_DUMP)
    st.dump = os.path.join(st.out, "hitl.dump")
    st.lines_before_dump = count_lines(st.checkpoints)
    st.dump_started = time.monotonic()
    run(["pg_dump", "-Fc", "-f", st.dump, owner], "pg_dump")
    took = time.monotonic() - st.dump_started
    st.roles_sql = os.path.join(st.offhost, "roles.sql")
    with open(st.roles_sql, "w") as f:
        f.write(run(["pg_dumpall", "--roles-only", "-h", "127.0.0.1", "-p",
                     str(port), "-U", "postgres"], "pg_dumpall"))
    time.sleep(LOAD_AFTER_DUMP)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    origin.stop()
    print("load: %d creations, %d approvals, %d comments acknowledged; "
          "pg_dump took %.2f s with the load running"
          % (len(st.book.created), len(st.book.approved),
             len(st.book.comments), took))
    return True


def restore_and_check_content(st):
    """Into a new cluster; then the rows, and the acknowledged writes."""
    db = "hitl_restored"
    st.owner = conninfo(st.args.target_port, db, "hitl_owner")
    st.runtime = conninfo(st.args.target_port, db, "hitl_runtime")
    restore(st.dump, st.roles_sql, st.args.target_port, db, st.out,
            st.args.break_)
    c = st.c
    counts = [(t, dump_rows(st.dump, t),
               int(psql(st.owner, "SELECT count(*) FROM " + t)))
              for t in TABLES]
    # The outbox alone may be empty in a dump; every other table has rows.
    c.check(all(d == r for _, d, r in counts)
            and all(d > 0 for t, d, _ in counts if t != "hitl_outbox"),
            "the restored database holds every row of the dump",
            "; ".join("%s dump %d restored %d" % x for x in counts))

    st.stored = dict(line.split("|", 1) for line in psql(
        st.owner, "SELECT decision_id, patch_id || '|' || decision FROM"
                  " hitl_decisions").splitlines())
    before = st.dump_started
    acked = [x for x in st.book.created if x[0] < before]
    lost = [d for _, d, p in acked
            if not st.stored.get(d, "").startswith(p + "|")]
    c.check(acked and not lost, "every creation acknowledged before pg_dump "
            "started is restored (%d)" % len(acked),
            "%d lost: %s" % (len(lost), lost[:5]))
    acked = [d for at, d in st.book.approved if at < before]
    lost = [d for d in acked
            if st.stored.get(d, "").split("|")[-1] != "approved"]
    c.check(acked and not lost, "every approval acknowledged before pg_dump "
            "started is restored (%d)" % len(acked),
            "%d lost: %s" % (len(lost), lost[:5]))
    texts = set(psql(st.owner, "SELECT decision_id || '|' || comment FROM"
                               " hitl_comments").splitlines())
    acked = [(d, t) for at, d, t in st.book.comments if at < before]
    lost = [x for x in acked if "%s|%s" % x not in texts]
    c.check(acked and not lost, "every comment acknowledged before pg_dump "
            "started is restored (%d)" % len(acked),
            "%d lost: %s" % (len(lost), lost[:5]))

    # What the restored database holds before any service runs on it.
    st.read_at = time.monotonic()
    st.open_rows = [(d, int(level), float(left)) for d, level, left in (
        line.split("|") for line in psql(
            st.owner, "SELECT decision_id, escalation_level,"
                      " extract(epoch FROM sla_deadline - now()) FROM"
                      " hitl_decisions WHERE hitl_decision_is_open(decision)"
                      " AND sla_deadline IS NOT NULL").splitlines())]
    st.pending_deliveries = set(psql(
        st.owner, "SELECT delivery_id FROM hitl_outbox WHERE state ="
                  " 'pending'").splitlines())


def check_checkpoint_files(st):
    """The off-host file goes on past the restore point: verify must see
    that, and hold for the lines before it (the first it contradicts and
    every later one are cut; the whole file stays as evidence)."""
    c = st.c
    rc, text = verify(st.binary, st.owner, "--checkpoints", st.checkpoints,
                      "--public-key", st.public_key)
    first_bad = contradicted_line(text, st.checkpoints)
    c.check(rc == 4 and first_bad is not None
            and first_bad - 1 >= st.lines_before_dump,
            "verify with the whole off-host checkpoint file sees the rollback "
            "(exit 4 from line %s; %d lines were signed before pg_dump began)"
            % (first_bad, st.lines_before_dump), "exit %d: %s" % (rc, text))
    st.confirmed = os.path.join(st.offhost, "restored-checkpoints.jsonl")
    with open(st.checkpoints) as f:
        lines = f.readlines()
    st.cut = (first_bad - 1) if first_bad else len(lines)
    with open(st.confirmed, "w") as f:
        f.writelines(lines[:st.cut])
    rc, text = verify(st.binary, st.owner, "--checkpoints", st.confirmed,
                      "--public-key", st.public_key)
    c.check(rc == 0 and st.cut > 0, "verify holds with the %d checkpoint "
            "lines the restore confirms, and the database's own" % st.cut,
            "exit %d: %s" % (rc, text))


def start_restored_node(st):
    st.hooks.answer(200)
    config = os.path.join(st.out, "restored.json")
    kept = (st.checkpoints if st.args.break_ == "checkpoint-file"
            else st.confirmed)
    write_config(config, st.key, kept, st.hooks.url)
    st.node = service(st.binary, st.runtime, config,
                      os.path.join(st.out, "restored-serve.log"))
    st.services.append(st.node)
    ok = st.c.check(st.node.ready(), "a new node starts on the restored "
                    "database as the restored runtime role",
                    last_line(st.node.log_path))
    st.started = time.monotonic()
    return ok


def check_restored_node(st):
    c, node, tokens = st.c, st.node, st.tokens
    # Due at least 3 s after the node answered: their level is read first.
    since_read = st.started - st.read_at
    later = [(d, left - since_read) for d, _, left in st.open_rows
             if left > since_read + 3]
    before = {d: get_level(st, d) for d, _ in later}
    overdue = {d: level for d, level, left in st.open_rows
               if left <= 0 and level < MAX_LEVEL}
    print("restored: %d open decisions with a deadline: %d overdue below "
          "level %d, %d due after the new node started"
          % (len(st.open_rows), len(overdue), MAX_LEVEL, len(later)))

    missing = [d for d in st.stored
               if request(node.port, "GET", "/hitl/decisions/" + d,
                          token=tokens["alice"])[0] != 200]
    c.check(st.stored and not missing, "every decision of the dump (%d) "
            "answers on the new node with the restored tokens"
            % len(st.stored), "%d do not: %s" % (len(missing), missing[:5]))

    def levels(ids):
        rows = psql(st.owner, "SELECT decision_id, escalation_level FROM"
                              " hitl_decisions WHERE decision_id IN (%s)"
                    % ",".join("'%s'" % d for d in ids))
        return {d: int(l) for d, l in (r.split("|") for r in rows.splitlines())}

    ok = bool(overdue) and eventually(
        lambda: all(l > overdue[d] for d, l in levels(overdue).items()),
        PROMPT)
    c.check(ok, "decisions whose deadline passed while nothing ran (%d) "
            "escalate within %.0f s of the new node's start (all had by "
            "%.1f s)" % (len(overdue), PROMPT, time.monotonic() - st.started),
            "levels before %s, now %s" % (
                dict(list(overdue.items())[:5]),
                levels(list(overdue)[:5]) if overdue else {}))

    ids = [d for d, _ in later]
    horizon = max([left for _, left in later] or [0]) + PROMPT
    ok = bool(ids) and all(l == 0 for l in before.values()) and eventually(
        lambda: all(get_level(st, d) >= 1 for d in ids), horizon)
    premature = psql(st.owner, "SELECT count(*) FROM hitl_audit_logs a JOIN"
                               " hitl_decisions d USING (decision_id) WHERE"
                               " a.action = 'escalated' AND a.timestamp <"
                               " d.sla_deadline")
    c.check(ok and premature == "0", "decisions whose deadline fell after "
            "the restore (%d) were at level 0 on the new node and escalate "
            "once it passes, none before" % len(ids),
            "levels at start %s; escalated before the deadline: %s"
            % (dict(list(before.items())[:5]), premature))

    twice = psql(st.owner, "SELECT count(*) FROM (SELECT decision_id,"
                           " details::jsonb ->> 'level' FROM hitl_audit_logs"
                           " WHERE action = 'escalated' GROUP BY 1, 2"
                           " HAVING count(*) > 1) x")
    c.check(twice == "0", "no (decision, level) escalated twice",
            twice + " twice")

    pending = st.pending_deliveries
    ok = bool(pending) and eventually(
        lambda: pending <= st.hooks.delivered(), 60)
    c.check(ok, "the %d deliveries pending in the dump arrive from the new "
            "node under their own delivery ids" % len(pending),
            "%d missing" % len(pending - st.hooks.delivered()))

    # The new node signs checkpoints past the restore point into the kept
    # file; verify must hold with it once the node stopped.
    ok = eventually(lambda: count_lines(st.confirmed) > st.cut, 30)
    node.stop()
    kept = (st.checkpoints if st.args.break_ == "checkpoint-file"
            else st.confirmed)
    rc, text = verify(st.binary, st.owner, "--checkpoints", kept,
                      "--public-key", st.public_key)
    c.check(ok and rc == 0, "after the new node ran, verify holds with the "
            "continued checkpoint file (%d lines, %d from the new node)"
            % (count_lines(kept), count_lines(kept) - st.cut),
            "exit %d: %s" % (rc, text))


def get_level(st, decision_id):
    status, body = request(st.node.port, "GET",
                           "/hitl/decisions/" + decision_id,
                           token=st.tokens["alice"])
    return body["escalation_level"] if status == 200 else -1


def last_line(path):
    with open(path, errors="replace") as f:
        lines = f.read().strip().splitlines()
    return lines[-1] if lines else "(an empty log)"


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for _ in f)


def contradicted_line(text, path):
    """The line verify names as the first checkpoint the chain contradicts."""
    marker = "the first: %s line " % path
    at = text.find(marker)
    if at < 0:
        return None
    digits = text[at + len(marker):].split()[0]
    return int(digits) if digits.isdigit() else None


if __name__ == "__main__":
    sys.exit(main())
