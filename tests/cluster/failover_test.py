"""The failover and chaos test (SPEC §8, issues 20 and 21): three real
`hitl serve` nodes on loopback share one database and forward to each
other (--node-listen); short SLAs; a webhook receiver; one WebSocket client
per node; creations, verdicts and comments sent to all three nodes from
several threads, every acknowledged answer logged; read-your-writes probes
across nodes; and, in the middle of it, one disruption (--scenario):

- kill: one node killed with SIGKILL; a long-poll on a survivor for a
  decision of the killed one is released by the verdict given through the
  other survivor after the takeover;
- stop: one node SIGSTOPped for longer than its lease, then SIGCONT: its
  late writes are fenced or answered 503, and it holds partitions again;
- rolling: each node in turn SIGTERMed and restarted;
- pgrestart: PostgreSQL stopped and started again (HITL_TEST_PG_CTL).

Then the part-1 checks (part1_checks.py), and: no answer 5xx other than
503; each node's stream showed every acknowledged creation and approval
once (live_streams.py); 1,000 reads with X-HITL-Min-Position, none stale
(fresh_reads.py; --fresh-reads). The figures of the scenario are printed.

Each run is one seed: which node, when, and the load's choices. Standard
library only. Usage:
  failover_test.py --seed N [--scenario kill|stop|rolling|pgrestart]
                   [--out DIR] [--no-min-position] [--nodes N]
                   [--scheduler-threads K] [--fresh-reads N]

--nodes 16 --scheduler-threads 1 is issue 21's fan-out run: sixteen real
nodes on this machine, each with one thread for its actors.
"""

import argparse
import json
import os
import random
import sys
import threading
import time

import live_streams
import part1_checks
from fresh_reads import fresh_reads
from harness import call, eventually, node, psql, receiver, run
from load import create_body, ledger, worker
from long_poll import long_poll
from scenarios import SCENARIOS

SLA_HIGH = 3          # seconds to the first escalation of a high decision
REPEAT = 3            # seconds between levels
MAX_LEVEL = 3
LOAD_SECONDS = 20     # at least; and 4 s past the end of the disruption
LOAD_TAIL = 4
TAKEOVER_TARGET = 10.0
PROBE_LIMIT = 300     # seconds the fresh-read probes may take after the load


class context:
    pass


def write_config(path, hooks):
    with open(path, "w") as f:
        json.dump({"sla_seconds": {"high": SLA_HIGH},
                   "escalation": {"max_level": MAX_LEVEL,
                                  "repeat_seconds": REPEAT},
                   "webhooks": [{"url": hooks.url,
                                 "events": ["decision.escalated"],
                                 "secret": "s3cret"}],
                   "notifications": {"max_attempts": 1000,
                                     "timeout_seconds": 2,
                                     "initial_backoff_seconds": 0.2,
                                     "max_backoff_seconds": 0.5}}, f)


def streams_ready(nodes, tokens, book, watches, timeout=120):
    """Every node's client follows commits: a creation shows on each. A
    client that connected while its node's feed was reading entries
    without their decisions (no client yet) is sent stream.resync in place
    of what that read brought (README, "Reads across nodes"): for it, one
    of the next creations must show."""
    deadline = time.monotonic() + timeout
    attempt = 0
    made = []
    while time.monotonic() < deadline:
        attempt += 1
        patch = "stream-ready-%d-%d" % (os.getpid(), attempt)
        sent = time.monotonic()
        a = call(nodes[0].port, "POST", "/hitl/admin/create-decision",
                 create_body(patch, 0, "low"), tokens["wargaming"])
        if a.status not in (200, 201):
            time.sleep(0.2)
            continue
        made.append(a.body["decision_id"])
        book.add("created", made[-1], patch, sent=sent)
        if eventually(lambda: all(any(w.saw("decision.created", did)
                                      for did in made) for w in watches),
                      min(10.0, max(0.0, deadline - time.monotonic()))):
            if len(made) > 1:
                print("the stream clients followed commits from creation %d"
                      " of their check on" % len(made))
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--scenario", choices=sorted(SCENARIOS), default="kill")
    ap.add_argument("--out", default=None)
    ap.add_argument("--no-min-position", action="store_true",
                    help="read without X-HITL-Min-Position (the stale-read "
                         "check must then fail: shows that it can)")
    ap.add_argument("--nodes", type=int, default=3,
                    help="how many nodes (at least 3)")
    ap.add_argument("--scheduler-threads", type=int, default=None,
                    help="each node's --scheduler-threads")
    ap.add_argument("--fresh-reads", type=int, default=1000,
                    help="how many read-your-writes probes must be answered")
    args = ap.parse_args()
    if args.nodes < 3:
        ap.error("--nodes must be at least 3")
    count = args.nodes
    node_args = [] if args.scheduler_threads is None else [
        "--scheduler-threads", str(args.scheduler_threads)]
    seed, scenario = args.seed, args.scenario
    rng = random.Random(seed)
    binary = os.environ["HITL_BINARY"]
    admin = os.environ["HITL_TEST_DATABASE_URL"]
    host = os.environ["HITL_TEST_PG_HOST"]
    port = os.environ["HITL_TEST_PG_PORT"]
    out_dir = args.out or os.path.join(os.getcwd(), "%s-%d" % (scenario,
                                                                seed))
    os.makedirs(out_dir, exist_ok=True)
    db = "hitl_%s_%d_%d" % (scenario, seed, os.getpid())
    url = "host=%s port=%s dbname=%s user=postgres" % (host, port, db)
    psql(admin, "CREATE DATABASE %s" % db)
    tag = "%s seed %d" % (scenario, seed)
    if count != 3:
        tag += " (%d nodes)" % count
    began = time.monotonic()
    failures = []
    nodes, watches = [], []
    done = threading.Event()   # ends the load, also on an exception
    try:
        run([binary, "migrate", "--database-url", url], "hitl migrate")
        tokens = {}
        for name, role in [("wargaming", "service"), ("alice", "reviewer"),
                           ("bob", "reviewer")]:
            tokens[name] = run([binary, "token", "create", "--name", name,
                                "--role", role, "--database-url", url],
                               "token").splitlines()[0]
        hooks = receiver()
        config = os.path.join(out_dir, "config.json")
        write_config(config, hooks)
        nodes = [node(binary, url, config, out_dir, i, node_args)
                 for i in range(count)]
        for x in nodes:
            x.wait_ready()
        # Every node holds partitions before the load: the victim must
        # have some to lose. (The first node to scan took all 256; the
        # others are handed theirs over the next scans.)
        spread_from = time.monotonic()
        if not eventually(lambda: all((x.owned() or 0) > 0 for x in nodes),
                          120):
            raise RuntimeError("some node never held a partition: %s"
                               % [x.owned() for x in nodes])
        print("%s: every node held partitions %.1f s after the last was "
              "ready: %s" % (tag, time.monotonic() - spread_from,
                             sorted(x.owned() for x in nodes)))
        # The nodes started together: one scan at a time, so at most the
        # first takes all 256 (the others' leases may have committed before
        # it read them) and the others are handed their shares. Two nodes
        # that each took all 256 at once: the race that lock_membership
        # closes.
        took_all = 0
        for x in nodes:
            with open(x.log_path, errors="replace") as f:
                took_all += "took 256 partition(s)" in f.read()
        if took_all > 1:
            failures.append("%d nodes took all 256 partitions" % took_all)

        book = ledger()
        watches = [live_streams.stream_watch(x, tokens["bob"])
                   for x in nodes]
        if not streams_ready(nodes, tokens, book, watches):
            raise RuntimeError("the WebSocket clients never showed a "
                               "creation")

        ctx = context()
        ctx.nodes, ctx.db_url, ctx.book, ctx.rng = nodes, url, book, rng
        ctx.victim = nodes[rng.randrange(count)]
        ctx.pg_ctl = os.environ.get("HITL_TEST_PG_CTL")
        ctx.figures = {}
        ctx.long_poll = None
        if scenario == "kill":
            poller = nodes[(ctx.victim.index + 1) % count]
            judge = nodes[(ctx.victim.index + 2) % count]
            ctx.long_poll = long_poll(url, poller, ctx.victim, judge, tokens,
                                      book, seed)

        threads = [threading.Thread(target=worker,
                                    args=(seed, w, nodes, tokens, book,
                                          done))
                   for w in range(6)]
        ctx.started = time.monotonic()
        for t in threads:
            t.start()
        probes = fresh_reads(seed, nodes, tokens, book,
                             wanted=args.fresh_reads,
                             send_position=not args.no_min_position)
        failures += SCENARIOS[scenario](ctx)
        time.sleep(max(LOAD_TAIL, LOAD_SECONDS -
                       (time.monotonic() - ctx.started)))
        done.set()
        for t in threads:
            t.join()
        # The probes go on until they made their reads (bounded), and
        # stop before anything is checked: no write is then in flight.
        probes.join(timeout=PROBE_LIMIT)
        probes.stop()

        took = ctx.figures.get("takeover (s)")
        if took is not None and took > TAKEOVER_TARGET:
            # The target, reported, not a verdict: a test's verdict
            # must not depend on the machine's speed.
            print("%s: NOTE the takeover took longer than the %.0f s target"
                  % (tag, TAKEOVER_TARGET))

        failures += part1_checks.acknowledged_writes(url, book)
        failures += part1_checks.due_levels(url, MAX_LEVEL, REPEAT)
        more, escalations = part1_checks.escalations_once(url, hooks,
                                                          out_dir)
        failures += more
        failures += part1_checks.epochs_monotonic(url)
        failures += part1_checks.audit_verify(binary, url)

        errors = book.server_errors()
        if errors:
            failures.append("answers 5xx other than 503: %s" % errors)
        if probes.reads < probes.wanted:
            failures.append("only %d of %d fresh reads answered"
                            % (probes.reads, probes.wanted))
        if probes.unpositioned:
            # SPEC §8: every write answers one, or its client cannot read
            # it on another node.
            failures.append("%d write(s) answered without X-HITL-Position"
                            % probes.unpositioned)
        if probes.stale:
            failures.append("%d stale read(s) despite X-HITL-Min-Position:"
                            " %s" % (len(probes.stale), probes.stale[:5]))
        if ctx.long_poll:
            more, line = ctx.long_poll.check()
            failures += more
            print("%s: %s" % (tag, line))
        for w in watches:
            w.stop()
        more, lines = live_streams.check(watches, book, out_dir)
        failures += more
        for line in lines:
            print("%s: %s" % (tag, line))

        for k, v in ctx.figures.items():
            print("%s: %s: %s" % (tag, k, v))
        print("%s: stale reads %d/%d (X-HITL-Min-Position %s) in %.0f s; "
              "%d writes answered without X-HITL-Position"
              % (tag, len(probes.stale), probes.reads,
                 "not sent" if args.no_min_position else "sent",
                 (probes.finished or probes.started) - probes.started,
                 probes.unpositioned))
        print("%s: acknowledged %d creations, %d approvals, %d comments; "
              "%d requests unacknowledged (503 or no answer); answers %s; "
              "%d escalations, each once in the log and delivered once; "
              "%.0f s in all" % (tag, len(book.created), len(book.approved),
                                 len(book.comments), book.unavailable,
                                 dict(sorted(book.statuses.items())),
                                 escalations, time.monotonic() - began))
    finally:
        done.set()
        for w in watches:
            w.stop()
        for x in nodes:
            x.stop()
        if os.environ.get("HITL_FAILOVER_KEEP_DB"):
            print("%s: kept database %s" % (tag, db))
        else:
            try:
                psql(admin, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % db)
            except RuntimeError:
                pass
    for f in failures:
        print("FAIL %s: %s" % (tag, f))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
