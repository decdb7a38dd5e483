"""The disruptions, each run while the load goes on: kill (SIGKILL of one
node), stop (SIGSTOP of one node for longer than a lease, then SIGCONT),
rolling (SIGTERM and restart of each node in turn), pgrestart (PostgreSQL
stopped and started again). Each returns (failures, figures); the sleeps
here schedule the disruption, no verdict waits on one."""

import shlex
import subprocess
import time

from harness import eventually, psql

STOP_SECONDS = 10.0     # longer than the 6 s lease
PG_DOWN_SECONDS = 3.0


def quiet_psql(db_url, sql):
    """psql, or None while the database does not answer."""
    try:
        return psql(db_url, sql)
    except (RuntimeError, subprocess.TimeoutExpired):
        return None


def held_by(db_url, node):
    return psql(db_url, "SELECT string_agg(partition_id::text, ',') FROM"
                        " hitl_partitions WHERE owner_node = '%s'"
                        % node.id) or ""


def reowned_after(db_url, held, node, since, timeout=60):
    """Seconds from `since` until each partition in `held` (a list in SQL)
    had been seen with a live owner other than `node`, or None. Each is
    counted once taken: on a machine too busy for the nodes to renew in
    time, partitions move between the others meanwhile, and are ownerless
    for up to a scan when they do, so "all had a live owner at once" (or
    "the others hold 256") measures that churn, not the takeover."""
    if not held:
        return 0.0
    want = set(held.split(","))
    seen = set()
    sql = ("SELECT string_agg(p.partition_id::text, ',') FROM hitl_partitions"
           " p JOIN hitl_nodes n ON n.node_id = p.owner_node AND"
           " n.lease_until > now() WHERE p.partition_id IN (%s) AND"
           " p.owner_node <> '%s'" % (held, node.id))

    def all_seen():
        now = quiet_psql(db_url, sql)
        if now:
            seen.update(now.split(","))
        return seen >= want
    if eventually(all_seen, timeout):
        return time.monotonic() - since
    return None


def holds(db_url, node):
    """The node answers /health and, by the database, holds partitions
    under a live lease (its own gauge may still show what it held before
    a pause)."""
    if node.owned() is None:
        return False
    n = quiet_psql(db_url, "SELECT count(*) FROM hitl_partitions p JOIN"
                           " hitl_nodes n ON n.node_id = p.owner_node AND"
                           " n.lease_until > now() WHERE p.owner_node ="
                           " '%s'" % node.id)
    return n is not None and int(n) > 0


def all_owned(db_url):
    return quiet_psql(db_url, "SELECT count(*) FROM hitl_partitions p JOIN"
                              " hitl_nodes n ON n.node_id = p.owner_node"
                              " AND n.lease_until > now()") == "256"


def kill(ctx):
    victim = ctx.victim
    time.sleep(ctx.rng.uniform(6, 10))
    ctx.figures["killed at (db clock)"] = psql(ctx.db_url, "SELECT now()")
    killed_at = time.monotonic()
    victim.kill()
    held = held_by(ctx.db_url, victim)
    took = reowned_after(ctx.db_url, held, victim, killed_at)
    ctx.figures["killed node"] = victim.index
    ctx.figures["killed after (s)"] = round(killed_at - ctx.started, 1)
    ctx.figures["partitions it held"] = len(held.split(",")) if held else 0
    ctx.figures["takeover (s)"] = None if took is None else round(took, 2)
    if took is None:
        return ["the killed node's partitions were never taken"]
    if ctx.long_poll and not ctx.long_poll.approve():
        return ["the long-poll's verdict was never accepted"]
    return []


def stop(ctx):
    victim = ctx.victim
    time.sleep(ctx.rng.uniform(6, 8))
    fenced_before = victim.metric("hitl_fenced_writes_total")
    held = held_by(ctx.db_url, victim)
    stopped_at = time.monotonic()
    victim.pause()
    took = reowned_after(ctx.db_url, held, victim, stopped_at)
    # Resumed once the others took its partitions, and not before
    # STOP_SECONDS: its lease has run out for certain.
    left = STOP_SECONDS - (time.monotonic() - stopped_at)
    if left > 0:
        time.sleep(left)
    stopped_for = time.monotonic() - stopped_at
    victim.resume()
    resumed_at = time.monotonic()
    rejoined = None
    if eventually(lambda: holds(ctx.db_url, victim), 60):
        rejoined = time.monotonic() - resumed_at

    # Its late writes come after SIGCONT, as it works off what it had
    # queued and what arrived meanwhile: wait for the answers to what was
    # sent while it was stopped (each has a 30 s timeout), then for the
    # counter, which moves when the refused batch comes back.
    def answered_all():
        with ctx.book.lock:
            return sum(ctx.book.paused_statuses.values()) >= \
                ctx.book.paused_sent
    eventually(answered_all, 45)

    def fenced_since():
        after = victim.metric("hitl_fenced_writes_total")
        return None if None in (fenced_before, after) \
            else int(after - fenced_before)

    def late_writes_refused():
        with ctx.book.lock:
            refused = ctx.book.paused_statuses.get(503)
        return refused or (fenced_since() or 0) > 0
    eventually(late_writes_refused, 10)
    fenced = fenced_since()
    with ctx.book.lock:
        answers = dict(ctx.book.paused_statuses)
    f = ctx.figures
    f["stopped node"] = victim.index
    f["stopped for (s)"] = round(stopped_for, 1)
    f["partitions it held"] = len(held.split(",")) if held else 0
    f["takeover (s)"] = None if took is None else round(took, 2)
    f["rejoined after SIGCONT (s)"] = \
        None if rejoined is None else round(rejoined, 2)
    f["fenced writes on it"] = fenced
    f["answers to requests sent while stopped"] = answers
    failures = []
    if took is None:
        failures.append("the stopped node's partitions were never taken")
    if rejoined is None:
        failures.append("the stopped node held no partition again within "
                        "60 s of SIGCONT")
    if not fenced and not answers.get(503):
        failures.append("the stopped node's late writes were neither fenced "
                        "(hitl_fenced_writes_total rose by %s) nor answered "
                        "503 (answers: %s)" % (fenced, answers))
    return failures


def rolling(ctx):
    time.sleep(ctx.rng.uniform(3, 5))
    order = list(ctx.nodes)
    ctx.rng.shuffle(order)
    failures, steps = [], []
    for x in order:
        began = time.monotonic()
        exited = x.stop()
        if exited is None:
            failures.append("node %d did not exit within 20 s of SIGTERM"
                            % x.index)
        x.start()
        try:
            x.wait_ready(60)
        except RuntimeError as e:
            failures.append(str(e))
            break
        if not eventually(lambda: holds(ctx.db_url, x), 60):
            failures.append("node %d held no partition within 60 s of its "
                            "restart" % x.index)
            break
        steps.append("node %d: exit %s s, holding again %.1f s" % (
            x.index, "%.1f" % exited if exited is not None else "killed",
            time.monotonic() - began))
    ctx.figures["restarts"] = "; ".join(steps)
    if not eventually(lambda: all_owned(ctx.db_url), 60):
        failures.append("not every partition had a live owner 60 s after "
                        "the last restart")
    return failures


def pgrestart(ctx):
    pg_ctl = shlex.split(ctx.pg_ctl or "")
    if not pg_ctl:
        return ["pgrestart needs HITL_TEST_PG_CTL (deploy/pg-ctl DIR PORT)"]
    time.sleep(ctx.rng.uniform(6, 8))
    subprocess.run(pg_ctl + ["stop"], check=True, timeout=60)
    down_at = time.monotonic()
    time.sleep(PG_DOWN_SECONDS)
    subprocess.run(pg_ctl + ["start"], check=True, timeout=60)
    up_at = time.monotonic()
    recovered = None
    if eventually(lambda: all_owned(ctx.db_url) and all(
            holds(ctx.db_url, x) for x in ctx.nodes), 90):
        recovered = time.monotonic() - up_at
    with ctx.book.lock:
        statuses = dict(ctx.book.statuses)
    ctx.figures["database down (s)"] = round(up_at - down_at, 1)
    ctx.figures["every node serving and every partition owned after "
                "the start (s)"] = \
        None if recovered is None else round(recovered, 2)
    ctx.figures["answers so far"] = statuses
    if recovered is None:
        return ["the nodes did not all hold partitions again within 90 s "
                "of the database's start"]
    return []


SCENARIOS = {"kill": kill, "stop": stop, "rolling": rolling,
             "pgrestart": pgrestart}
