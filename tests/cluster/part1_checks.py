"""The checks after any disruption (issue 20, part 1), on the database and
the webhooks received: nothing acknowledged lost, nothing escalated or
delivered twice, every open decision at its due level, the audit chain
intact, and (issue 21) epochs that never go back along a partition's
chain. Each returns a list of failures; an empty list is a pass."""

import os
import subprocess

from harness import eventually, psql


def acknowledged_writes(db_url, book):
    failures = []
    stored = {}
    for line in psql(db_url, "SELECT decision_id, patch_id, decision FROM"
                             " hitl_decisions").splitlines():
        did, patch, state = line.split("|")
        stored[did] = (patch, state)
    lost = [d for d, p in book.created.items()
            if stored.get(d, (None,))[0] != p]
    if lost:
        failures.append("%d acknowledged creations missing: %s"
                        % (len(lost), lost[:5]))
    unapproved = [d for d in book.approved
                  if stored.get(d, (None, None))[1] != "approved"]
    if unapproved:
        failures.append("%d acknowledged approvals missing: %s"
                        % (len(unapproved), unapproved[:5]))
    texts = set(psql(db_url, "SELECT decision_id || '|' || comment FROM"
                             " hitl_comments").splitlines())
    missing = [c for c in book.comments if "%s|%s" % c not in texts]
    if missing:
        failures.append("%d acknowledged comments missing: %s"
                        % (len(missing), missing[:5]))
    return failures


def due_levels(db_url, max_level, repeat):
    """Every open decision at its due level, once the owners caught up (a
    level that fell due in the last 2 s may still be committing); then each
    reaches the last level, from when nothing escalates any more and the
    log and the deliveries can be compared whole."""
    due_sql = """
      WITH d AS (
        SELECT decision_id, escalation_level AS level,
          CASE WHEN sla_deadline IS NULL OR now() < sla_deadline THEN 0
               ELSE least(%d, 1 + floor(extract(epoch FROM
                 now() - sla_deadline) / %d)::int) END AS due_now,
          CASE WHEN sla_deadline IS NULL
                 OR now() - interval '2 seconds' < sla_deadline THEN 0
               ELSE least(%d, 1 + floor(extract(epoch FROM
                 now() - interval '2 seconds' - sla_deadline) / %d)::int)
               END AS due_before
        FROM hitl_decisions WHERE hitl_decision_is_open(decision))
      SELECT count(*) FILTER (WHERE level < due_before OR level > due_now)
      FROM d""" % (max_level, repeat, max_level, repeat)
    failures = []
    if not eventually(lambda: psql(db_url, due_sql) == "0", 60):
        failures.append("open decisions off their due level: %s" %
                        psql(db_url, due_sql))
    if not eventually(lambda: psql(
            db_url, "SELECT count(*) FROM hitl_decisions WHERE"
                    " hitl_decision_is_open(decision) AND sla_deadline"
                    " IS NOT NULL AND escalation_level < %d" % max_level)
            == "0", 60):
        failures.append("open decisions short of level %d" % max_level)
    return failures


def escalations_once(db_url, hooks, out_dir):
    """(failures, number of escalations logged)."""
    failures = []
    twice = psql(db_url, "SELECT count(*) FROM (SELECT decision_id,"
                         " details::jsonb ->> 'level' FROM"
                         " hitl_audit_logs WHERE action = 'escalated'"
                         " GROUP BY 1, 2 HAVING count(*) > 1) x")
    if twice != "0":
        failures.append("%s (decision, level) escalated twice" % twice)
    logged = set()
    for line in psql(db_url, "SELECT decision_id || '|' || (details::jsonb"
                             " ->> 'level') FROM hitl_audit_logs WHERE"
                             " action = 'escalated'").splitlines():
        did, level = line.split("|")
        logged.add((did, int(level)))
    if not eventually(lambda: psql(
            db_url, "SELECT count(*) FROM hitl_outbox WHERE state <>"
                    " 'delivered'") == "0", 60):
        failures.append("webhooks left undelivered")
        with open(os.path.join(out_dir, "outbox-undelivered.txt"), "w") as f:
            f.write(psql(db_url, "SELECT id, delivery_id, decision_id,"
                                 " payload::jsonb ->> 'level', state,"
                                 " attempts, next_attempt_at, created_at,"
                                 " last_error FROM hitl_outbox WHERE"
                                 " state <> 'delivered' ORDER BY id"))
    deliveries = {}
    for delivery, event, did, level in hooks.received():
        if event == "decision.escalated":
            deliveries.setdefault((did, level), set()).add(delivery)
    doubled = [k for k, v in deliveries.items() if len(v) > 1]
    if doubled:
        failures.append("%d (decision, level) delivered under several "
                        "delivery ids: %s" % (len(doubled), doubled[:5]))
    if set(deliveries) != logged:
        failures.append("escalations logged but not delivered: %s; "
                        "delivered but not logged: %s" % (
                            sorted(logged - set(deliveries))[:5],
                            sorted(set(deliveries) - logged)[:5]))
    return failures, len(logged)


def epochs_monotonic(db_url):
    """A write of an owner that lost its lease would sit in the chain under
    its old epoch after the new owner's entries: the fence must have
    refused it."""
    back = psql(db_url, """
      SELECT count(*) FROM (
        SELECT epoch < lag(epoch) OVER (PARTITION BY partition_id
                                        ORDER BY pseq) AS went_back
        FROM hitl_audit_logs WHERE partition_id IS NOT NULL) x
      WHERE went_back""")
    if back != "0":
        return ["%s audit entries under an epoch older than the entry "
                "before them in their partition's chain" % back]
    return []


def audit_verify(binary, url):
    verify = subprocess.run([binary, "audit", "verify", "--database-url",
                             url], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=300)
    if verify.returncode != 0:
        return ["audit verify: " + verify.stdout.decode()]
    return []
