"""Runs each test group of deploy/prometheus/hitl-rules.test.yml alone
under `promtool test rules`, so that the counts are per group, and checks
that every alert of hitl-rules.yml has a group that fires it and an
expectation that it must not fire. Prints one line per check and
"groups: N passed, M failed"; exits 1 on any failure."""

import os
import subprocess
import sys
import tempfile

import yaml

PROMTOOL_TIMEOUT = 120  # seconds, per group; each takes well under one


def alerts_of(rules_path):
    with open(rules_path) as f:
        rules = yaml.safe_load(f)
    return [r["alert"] for g in rules["groups"] for r in g["rules"]
            if "alert" in r]


def coverage_failures(alerts, tests):
    """Alerts without a firing expectation or without a silent one."""
    firing, silent = set(), set()
    for t in tests:
        for case in t.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else silent).add(
                case["alertname"])
    unknown = (firing | silent) - set(alerts)
    out = ["%s: no test fires it" % a for a in alerts if a not in firing]
    out += ["%s: no test where it must not fire" % a
            for a in alerts if a not in silent]
    out += ["%s: tested but not an alert of the rules" % a
            for a in sorted(unknown)]
    return out


def run_group(spec, test, work):
    """One group in its own file, rule_files made absolute."""
    one = dict(spec, tests=[test])
    one["rule_files"] = [os.path.join(spec["_dir"], r)
                         for r in spec["rule_files"]]
    del one["_dir"]
    path = os.path.join(work, "group.test.yml")
    with open(path, "w") as f:
        yaml.safe_dump(one, f, sort_keys=False)
    done = subprocess.run(["promtool", "test", "rules", path],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=PROMTOOL_TIMEOUT)
    return done.returncode == 0, done.stdout.decode(errors="replace")


def main(test_path):
    with open(test_path) as f:
        spec = yaml.safe_load(f)
    spec["_dir"] = os.path.dirname(os.path.abspath(test_path))
    tests = spec.get("tests") or []
    if not tests:
        print("no test groups in %s" % test_path)
        return 1
    passed = failed = 0
    rules_path = os.path.join(spec["_dir"], spec["rule_files"][0])
    for problem in coverage_failures(alerts_of(rules_path), tests):
        print("FAIL coverage: " + problem)
        failed += 1
    with tempfile.TemporaryDirectory() as work:
        for test in tests:
            ok, said = run_group(spec, test, work)
            print(("ok   " if ok else "FAIL ") + test["name"])
            if ok:
                passed += 1
            else:
                print(said)
                failed += 1
    print("groups: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
