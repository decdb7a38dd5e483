#!/usr/bin/env python3
"""bench/report on hand-written results: the table's rows, the ratios to the
ceilings of the same run, targets met and missed (from bench/targets.json),
and --compare's changes and medians. Runs the real script as bench/run does.

    python3 tests/bench/report_test.py
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
REPORT = os.path.join(ROOT, "bench", "report")
TARGETS = os.path.join(ROOT, "bench", "targets.json")


def wrk(rid, section, scenario, conns, thr, p50, p99, p999, errors=0,
        cpu=(70, 80, 18, 177), **extra):
    rec = {"id": rid, "section": section, "scenario": scenario,
           "kind": "wrk", "conns": conns, "threads": 2, "duration_s": 20,
           "requests": int(thr * 20), "throughput": thr, "unit": "req/s",
           "latency_ms": {"p50": p50, "p90": p99 / 2, "p99": p99,
                          "p99.9": p999, "max": p999 * 2, "mean": p50},
           "errors": errors, "non2xx": errors, "socket_errors": 0,
           "exhausted": 0, "codes": {},
           "cpu_pct": dict(zip(("server", "postgres", "load", "machine"),
                               cpu)),
           "machine": None, "service_metrics": None, "service": None}
    rec.update(extra)
    return rec


def pgbench(conns, tps, p50, p99, p999):
    return {"id": f"pgbench_c{conns}", "section": "ceiling",
            "scenario": "pgbench", "kind": "pgbench", "conns": conns,
            "duration_s": 10, "throughput": tps, "unit": "tx/s",
            "latency_ms": {"p50": p50, "p99": p99, "p99.9": p999,
                           "mean": p50},
            "errors": 0,
            "cpu_pct": {"server": None, "postgres": None, "load": 13,
                        "machine": 57}}


TAILS = {"machine": {"steal_pct": 0.1, "iowait_pct": 5.7,
                     "major_faults": 6},
         "service_metrics": {"requests": 223761, "over_25ms": 78,
                             "over_100ms": 0, "commits": 11721,
                             "commits_over_25ms": 1,
                             "commits_over_100ms": 0}}

RESULTS = [
    wrk("nginx_c1", "ceiling", "nginx", 1, 11950.2, 0.08, 0.37, 3.29,
        cpu=(41, 0, 42, 63)),
    wrk("nginx_c64", "ceiling", "nginx", 64, 114696.4, 0.39, 4.21, 7.40,
        cpu=(92, 0, 105, 198)),
    pgbench(1, 4084, 0.232, 0.431, 0.98),
    pgbench(64, 22379, 2.02, 7.18, 13.7),
    {"id": "schema_batch", "section": "ceiling", "scenario": "schema_batch",
     "kind": "pgbench", "conns": 1, "duration_s": 10, "throughput": 14816,
     "unit": "decisions/s", "tx_per_s": 463, "rows_per_tx": 32,
     "latency_ms": {"mean": 2.161}, "errors": 0,
     "cpu_pct": {"server": None, "postgres": None, "load": 9,
                 "machine": 85}},
    wrk("create_c64", "service", "create", 64, 11152.3, 5.141, 14.365,
        22.66, cpu=(72, 81, 18, 177), write_percent=100,
        service="create_c64",
        decision_states={"auto_approved": 111880, "pending": 111880},
        **TAILS),
    wrk("create_profiled", "profile", "create", 64, 9265.4, 6.0, 19.13,
        50.1, cpu=(81, 72, 17, 172), service="create_c64",
        profile={"name": "create", "seconds": 5, "recorded": True}),
    wrk("create_c1", "service", "create", 1, 1083.0, 0.88, 2.24, 11.3,
        cpu=(46, 47, 5, 91), write_percent=100, service="create_c1"),
    wrk("approve_c64", "service", "approve", 64, 11156.0, 5.62, 10.62,
        20.46, errors=3, write_percent=100, service="approve",
        requests=223590, exhausted=3, codes={"404": 3},
        rss_kib={"before": 22000, "after": 76592},
        decision_states={"approved": 223587, "pending": 96413}),
    wrk("decision_c64", "service", "decision", 64, 40000.0, 1.02, 10.48,
        19.28, write_percent=0, open=10000, service="reads"),
    wrk("mixed_c64", "service", "mixed", 64, 5603.0, 11.47, 92.58, 131.84,
        write_percent=30, open=10000, service="mixed"),
    wrk("cluster_create_c64", "cluster", "cluster_create_c64", 64, 3345.0,
        17.0, 61.9, 91.8, threads=3, nodes=3, single="create_c64",
        single_throughput=11152.0, vs_single=0.3, partitions_held="85/86/85",
        cpu=(201, 90, None, 196)),
    wrk("cluster_confined_single_c64", "cluster",
        "cluster_confined_single_c64", 64, 1484.0, 40.2, 89.5, 120.0,
        threads=1, nodes=1, single="", vs_single=None,
        partitions_held="256", node_cpu_quota_pct=15,
        quota_throttled_pct=98.8, cpu=(15, 18, None, 41)),
    wrk("cluster_confined_c64", "cluster", "cluster_confined_c64", 64,
        2454.0, 26.3, 59.2, 80.0, threads=3, nodes=3,
        single="cluster_confined_single_c64", single_throughput=1484.0,
        vs_single=1.654, partitions_held="90/79/87", node_cpu_quota_pct=15,
        quota_throttled_pct=99.1, cpu=(44, 42, None, 96)),
    {"id": "scale_0", "section": "scale", "scenario": "scale",
     "kind": "scale", "open": 0, "rss_kib": 22528, "hwm_kib": 23000,
     "idle_cpu_pct": {"server": 1, "postgres": 0}},
    {"id": "scale_1000000", "section": "scale", "scenario": "scale",
     "kind": "scale", "open": 1000000, "sql_load_s": 30.1, "health_s": 9.94,
     "ready_s": 10.67, "ready_max_s": 240, "settle": "idle",
     "settled_s": 11.69, "busy_pct": None,
     "recovered_log": "recovered 1000000 open decisions in 9.857 s",
     "rss_kib": 1142947, "hwm_kib": 1142947,
     "idle_cpu_pct": {"server": 1, "postgres": 0}},
    {"id": "escalation", "section": "scale", "scenario": "escalation",
     "kind": "escalation", "decisions": 100000, "lead_s": 20,
     "wait_max_s": 180, "completed": True, "escalated_seen": 100000,
     "first_s": 0.031, "last_s": 8.091, "seen_by_poll_s": 8.4,
     "rows_escalated": 100000, "audit_entries": 100000,
     "audit_decisions": 100000, "actors_rebuilt": 0,
     "ready_after_deadline_s": None,
     "cpu_seconds": {"server": 8.2, "postgres": 7.49}},
]

SERVICES = [
    {"name": "create_c64", "health_s": 0.07, "ready_s": 0.08,
     "ready_max_s": 300, "settle": "idle", "settled_s": 1.1,
     "busy_pct": None, "settle_sample_s": 1, "shutdown_s": 6.98,
     "killed": False, "stop_grace_s": 15},
    {"name": "scale_1000000", "health_s": 9.94, "ready_s": None,
     "ready_max_s": 240, "settle": "gave_up", "settled_s": 61.3,
     "busy_pct": 35, "settle_sample_s": 1, "shutdown_s": None,
     "killed": True, "stop_grace_s": 15},
]

RUN = {"mode": "full", "command": "bench/run", "scenario_duration_s": 20,
       "ceiling_duration_s": 10, "started_at": 1795574443,
       "ended_at": 1795574855, "elapsed_s": 412,
       "binary": {"path": "/tmp/hitl-final2", "mtime": "2026-11-25 02:02:58",
                  "sha256": "e6573101ee29" + "0" * 52},
       "source": {"commit": "9535016", "uncommitted_changes": False},
       "settle_sample_s": 1, "profile_s": 5, "profile": True,
       "escalations": 100000,
       "machine": {"nproc": 2, "lscpu": "Architecture: x86_64",
                   "free": "Mem: 23Gi", "kernel": "Linux 6.18",
                   "date": "Wed, 25 Nov 2026 02:57:35 +0000",
                   "load_start": "0.55 0.85 0.84",
                   "load_end": "2.01 2.92 1.96"}}


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def run_report(*args):
    return subprocess.run([sys.executable, REPORT, *args],
                          capture_output=True, text=True, timeout=60)


class ReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bench-report-test.")
        out = os.path.join(cls.tmp.name, "out")
        os.mkdir(out)
        write_jsonl(os.path.join(out, "results.jsonl"), RESULTS)
        write_jsonl(os.path.join(out, "services.jsonl"), SERVICES)
        with open(os.path.join(out, "run.json"), "w") as f:
            json.dump(RUN, f)
        with open(os.path.join(out, "pgss-create_c64.txt"), "w") as f:
            f.write("".join(f"line {i}\n" for i in range(1, 20)))
        with open(os.path.join(out, "profile-create-threads.txt"), "w") as f:
            f.write("    36.41%  hitl\n")
        cls.md = os.path.join(cls.tmp.name, "RESULTS.md")
        cls.proc = run_report("--out", out, "--results", cls.md,
                              "--targets", TARGETS)
        with open(cls.md, encoding="utf-8") as f:
            cls.text = f.read()
        cls.rows = {}
        for line in cls.proc.stdout.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            cls.rows.setdefault((cells[0], cells[1]), cells)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def row(self, name, conns):
        self.assertIn((name, conns), self.rows, self.proc.stdout)
        return self.rows[(name, conns)]

    def test_runs_and_writes_the_table_into_results_md(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIn(self.proc.stdout.strip(), self.text)
        self.assertIn("Produced by `bench/run` (full run, 20s per scenario, "
                      "10s per ceiling, wall time 412s) on 2026-11-25 "
                      "02:40:43 UTC.", self.text)
        self.assertIn("Binary: /tmp/hitl-final2, 2026-11-25 02:02:58, sha256 "
                      "e6573101ee29; source 9535016.", self.text)
        self.assertIn("*CPU %* is per core (200 % = all 2 cores busy)",
                      self.text)

    def test_sections_in_run_order_and_profiled_runs_left_out(self):
        lines = self.proc.stdout.splitlines()
        heads = [l for l in lines if l.startswith("| **")]
        self.assertEqual(heads, [f"| **{s}** | | | | | | | | | | | |"
                                 for s in ("ceiling", "service", "cluster",
                                           "scale")])
        self.assertFalse(any("9265" in l for l in lines))
        self.assertIn("(9265 req/s while profiled, CPU svc/pg/wrk/all "
                      "81/72/17/172 %)", self.text)

    def test_ceiling_rows(self):
        self.assertEqual(self.row("nginx static 200", "64"),
                         ["nginx static 200", "64", "114696 req/s", "0.39",
                          "4.21", "7.40", "0", "92/0/105/198", "1", "-", "-",
                          "-"])
        self.assertEqual(self.row("pgbench durable INSERT (commit ceiling)",
                                  "1")[2:10],
                         ["4084 tx/s", "0.23", "0.43", "0.98", "0",
                          "-/-/13/57", "-", "1"])
        self.assertEqual(
            self.row("diagnostic: pgbench 32 decision + 32 audit rows per "
                     "commit (real schema, one writer)", "1")[2:8],
            ["14816 decisions/s (463 tx/s, avg 2.161 ms)", "-", "-", "-",
             "0", "-/-/9/85"])

    def test_ratios_to_the_ceilings_of_the_same_run(self):
        # 11152 / 114696 and 11152 / 22379
        row = self.row("create-decision (½ auto-approved)", "64")
        self.assertEqual(row[8:10], ["0.097", "0.498"])
        # at 1 connection: 1083 / 11950 and 1083 / 4084
        row = self.row("create-decision (½ auto-approved)", "1")
        self.assertEqual(row[8:10], ["0.091", "0.265"])
        # reads have no commit ratio; mixed: its 30 % writes, 1680 / 22379
        self.assertEqual(self.row("GET decision by id", "64")[8:10],
                         ["0.349", "-"])
        self.assertEqual(self.row("mixed 70% read / 20% create / 10% "
                                  "approve", "64")[8:10],
                         ["0.049", "0.075 (writes)"])

    def test_target_met(self):
        self.assertEqual(self.row("create-decision (½ auto-approved)", "64"),
                         ["create-decision (½ auto-approved)", "64",
                          "11152 req/s", "5.14", "14.37", "22.66", "0",
                          "72/81/18/177", "0.097", "0.498",
                          "≥ 10000/s, p99 ≤ 25 ms, 0 errors", "PASS"])
        rss = self.row("RSS with 1000000 open (after restart)", "-")
        self.assertEqual(rss[2], "1.09 GiB (peak 1.09 GiB), 1147 B/open "
                                 "decision")
        self.assertEqual(rss[10:], ["≤ 2 GiB", "PASS"])
        rec = self.row("recovery of 1000000 open (start → ready)", "-")
        self.assertEqual(rec[2], "10.67 s until the supervisor answers "
                                 "(/health 200 after 9.94 s; CPU idle after "
                                 "11.69 s; log: recovered 1000000 open "
                                 "decisions in 9.857 s)")
        self.assertEqual(rec[10:], ["≤ 20 s", "PASS"])
        esc = self.row("100000 SLA escalations due in the same second", "-")
        self.assertTrue(esc[2].startswith("8.09 s deadline → last escalation "
                                          "(first at +0.03 s; all 100000 "
                                          "seen committed by poll at +8.4 s;"),
                        esc[2])
        self.assertEqual(esc[7:], ["8/7 cpu-s", "-", "-", "≤ 10 s", "PASS"])

    def test_targets_missed(self):
        # 40000 req/s < 50000
        self.assertEqual(self.row("GET decision by id", "64")[10:],
                         ["≥ 50000/s, 0 errors", "FAIL"])
        # fast enough, but 3 errors
        row = self.row("approve (distinct pending)", "64")
        self.assertEqual(row[6], "3 (3 ids exhausted) [404:3]")
        self.assertEqual(row[10:], ["≥ 8000/s, 0 errors", "FAIL"])
        # no target: no verdict
        self.assertEqual(self.row("create-decision (½ auto-approved)",
                                  "1")[10:], ["-", "-"])

    def test_cluster_rows_beside_the_single_node(self):
        name = "create-decision on 3 nodes (p99: worst node's)"
        row = self.row(name, "64")
        self.assertEqual(row[2:7], ["3345 req/s", "17.00", "61.90", "91.80",
                                    "0"])
        self.assertEqual(row[10:], ["0 errors", "PASS"])
        vs = self.row("… vs one node (create_c64, same run); partitions "
                      "held 85/86/85", "-")
        self.assertEqual(vs[2], "0.30×")
        self.assertEqual(vs[10:], ["≥ 1× one node", "FAIL"])

    def test_confined_cluster_rows_against_the_confined_node(self):
        one = self.row("create-decision on one node held to 15 % of a core "
                       "(a cpu cgroup)", "64")
        self.assertEqual(one[2], "1484 req/s")
        self.assertEqual(one[10:], ["0 errors", "PASS"])
        # one node is what the next row is held to, not a cluster of its own
        self.assertNotIn(("… vs one node (, same run); partitions held 256",
                          "-"), self.rows)
        three = self.row("create-decision on 3 nodes, each held to 15 % of "
                         "a core (p99: worst node's)", "64")
        self.assertEqual(three[2], "2454 req/s")
        vs = self.row("… vs one node (cluster_confined_single_c64, same "
                      "run); partitions held 90/79/87", "-")
        self.assertEqual(vs[2], "1.65×")
        self.assertEqual(vs[10:], ["≥ 1× one node", "PASS"])
        self.assertIn(("… quota used up in 99.1 % of the nodes' 10 ms "
                       "periods", "-"), self.rows)

    def test_extra_figures(self):
        self.assertEqual(
            self.row("RSS growth while approving (kept until the SLA "
                     "deadlines pass)", "-")[2],
            "53 MiB for 223590 approvals, 250 B each")
        self.assertEqual(self.row("RSS idle, 0 open decisions", "-")[2:8],
                         ["22 MiB", "-", "-", "-", "-", "1/0 (idle)"])
        self.assertIn("create_c64: auto_approved=111880 pending=111880",
                      self.text)
        self.assertIn("| create_c64 | 64 | 14.37 | 22.66 | 0.1 | 5.7 | 6 | "
                      "223761 | 78 | 0 | 11721 | 1 | 0 |", self.text)

    def test_service_start_and_stop_lines(self):
        self.assertIn("create_c64: /health 200 after 0.07s, supervisor "
                      "answering after 0.08s, idle (< 10 % CPU over 1 s) "
                      "after 1.10 s", self.text)
        self.assertIn("scale_1000000: /health 200 after 9.94s, supervisor "
                      "answering after > 240s, idle (< 10 % CPU over 1 s) "
                      "after > 61.30 s (still 35 % busy: gave up waiting)",
                      self.text)
        self.assertIn("create_c64: exited 6.98s after SIGTERM", self.text)
        self.assertIn("scale_1000000: no exit within 15 s of SIGTERM, killed",
                      self.text)

    def test_statements_and_profile_from_the_text_files(self):
        self.assertIn("### create_c64 (223046 requests)\n\n```\nline 1\n",
                      self.text)
        self.assertIn("line 12\n```", self.text)
        self.assertNotIn("line 13", self.text)
        self.assertIn("By thread (self time):\n\n```\n    36.41%  hitl\n```",
                      self.text)

    def test_unknown_metric_in_targets_is_refused(self):
        bad = os.path.join(self.tmp.name, "bad-targets.json")
        with open(bad, "w") as f:
            json.dump({"scenarios": {"create_c64": {"p95": {"max": 1,
                                                            "unit": "ms"}}}},
                      f)
        proc = run_report("--out", os.path.join(self.tmp.name, "out"),
                          "--results", os.path.join(self.tmp.name, "x.md"),
                          "--targets", bad)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("unknown metric 'p95'", proc.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp.name, "x.md")))


class CompareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-compare-test.")

    def tearDown(self):
        self.tmp.cleanup()

    def results(self, name, create, p99, nginx):
        path = os.path.join(self.tmp.name, name)
        write_jsonl(path, [
            wrk("nginx_c64", "ceiling", "nginx", 64, nginx, 0.4, 4.0, 7.0),
            wrk("create_c64", "service", "create", 64, create, 5.0, p99,
                20.0, write_percent=100),
            wrk("create_profiled", "profile", "create", 64, 1.0, 1.0, 1.0,
                1.0)])
        return path

    def compare(self, *paths):
        proc = run_report("--compare", *paths)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout

    def test_one_pair(self):
        out = self.compare(self.results("a.jsonl", 10000, 10.0, 100000),
                           self.results("b.jsonl", 11000, 9.0, 96000))
        self.assertIn("| create-decision (½ auto-approved) | 64 | 10000 | "
                      "11000 | +10.0 % | 10.00 | 9.00 | -10.0 % |", out)
        self.assertIn("| nginx static 200 | 64 | 100000 | 96000 | -4.0 % |",
                      out)
        self.assertIn("nginx ceiling, B vs A: c=64 -4.0 %", out)
        # the profiled run is not compared
        self.assertEqual(sum(l.startswith("| create-decision")
                             for l in out.splitlines()), 1, out)

    def test_pairs_give_medians_of_each_side_and_of_the_ratios(self):
        # ratios 1.1, 0.9, 1.1: their median is +10 %, while the medians of
        # the sides (200 and 180) alone would say -10 %.
        paths = [self.results("a1", 100, 10.0, 1000),
                 self.results("b1", 110, 12.0, 1000),
                 self.results("a2", 200, 10.0, 1000),
                 self.results("b2", 180, 8.0, 1000),
                 self.results("a3", 300, 20.0, 1000),
                 self.results("b3", 330, 10.0, 1000)]
        out = self.compare(*paths)
        self.assertIn("3 pairs", out)
        # p99 ratios 1.2, 0.8, 0.5: median 0.8
        self.assertIn("| create-decision (½ auto-approved) | 64 | 200 | 180 | "
                      "+10.0 % | 10.00 | 10.00 | -20.0 % |", out)
        self.assertIn("nginx ceiling, B vs A: c=64 +0.0 %", out)

    def test_odd_number_of_files_is_refused(self):
        proc = run_report("--compare", self.results("a", 1, 1.0, 1))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("pairs", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
