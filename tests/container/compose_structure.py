"""compose_structure.py COMPOSE PROMETHEUS_CONFIG: what deploy/compose.yaml
must hold beyond the compose schema, with PyYAML (merge keys resolved).
Exits 1 naming each problem; the last line of a success sums it up."""

import sys

import yaml

NODE_IMAGE = "localhost/hitl:latest"


def main(compose_path, prometheus_path):
    with open(compose_path) as f:
        compose = yaml.safe_load(f)
    with open(prometheus_path) as f:
        prometheus = yaml.safe_load(f)
    problems = []
    services = compose.get("services") or {}

    for name in ("postgres", "db-roles", "migrate", "prometheus"):
        if name not in services:
            problems.append(f"no service {name}")

    nodes = {name: s for name, s in services.items()
             if s.get("image") == NODE_IMAGE and "migrate" not in (s.get("command") or [])}
    if len(nodes) != 3:
        problems.append(f"{len(nodes)} hitl nodes ({sorted(nodes)}), want 3")
    env = {name: s.get("environment") or {} for name, s in nodes.items()}
    ids = [e.get("HITL_NODE_ID") for e in env.values()]
    if None in ids or len(set(ids)) != len(ids):
        problems.append(f"node ids missing or repeated: {ids}")
    urls = {e.get("HITL_DATABASE_URL") for e in env.values()}
    if len(urls) != 1 or None in urls:
        problems.append(f"the nodes do not share one database: {urls}")
    for name, e in env.items():
        if not e.get("HITL_NODE_LISTEN"):
            problems.append(f"{name}: no HITL_NODE_LISTEN (it would forward nothing)")
        advertise = e.get("HITL_ADVERTISE", "")
        if advertise.split(":")[0] != name:
            problems.append(f"{name}: advertises '{advertise}', not its service name")
        depends = nodes[name].get("depends_on") or {}
        if (depends.get("migrate") or {}).get("condition") != "service_completed_successfully":
            problems.append(f"{name}: does not wait for migrate to complete")

    jobs = prometheus.get("scrape_configs") or []
    targets = {t for job in jobs for sc in job.get("static_configs") or []
               for t in sc.get("targets") or []}
    want = {f"{name}:{e.get('HITL_LISTEN', ':').rsplit(':', 1)[1]}"
            for name, e in env.items()}
    if targets != want:
        problems.append(f"Prometheus scrapes {sorted(targets)}, the nodes are {sorted(want)}")

    rule_files = prometheus.get("rule_files") or []
    mounts = (services.get("prometheus") or {}).get("volumes") or []
    mounted = {m.split(":")[1]: m.split(":")[0] for m in mounts if isinstance(m, str)}
    if not rule_files:
        problems.append("Prometheus loads no rule_files")
    for rule_file in rule_files:
        if mounted.get(rule_file) != "./prometheus/hitl-rules.yml":
            problems.append(f"rule file {rule_file} is not mounted from ./prometheus/hitl-rules.yml")
    if mounted.get("/etc/prometheus/prometheus.yml") != "./compose-prometheus.yml":
        problems.append("Prometheus does not mount ./compose-prometheus.yml as its config")

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"structure: {len(services)} services, nodes {sorted(nodes)} with distinct ids on one "
          f"database, Prometheus scrapes {len(targets)} targets and loads {rule_files}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compose_structure.py COMPOSE PROMETHEUS_CONFIG")
    sys.exit(main(sys.argv[1], sys.argv[2]))
