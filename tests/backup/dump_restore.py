"""The backup and its restore, as deploy/backup/README.md gives them:
pg_dump -Fc of the database, pg_dumpall --roles-only, and into a new
cluster: the roles, an empty database owned by the owner, pg_restore."""

import os

from hitl_processes import run


def dump_rows(dump, table):
    """The rows of `table` in the dump file, counted in its COPY block."""
    text = run(["pg_restore", "--data-only", "--table", table, "-f", "-",
                dump], "pg_restore of " + table)
    rows, inside = 0, False
    for line in text.splitlines():
        if line.startswith("COPY "):
            inside = True
        elif line == "\\.":
            inside = False
        elif inside:
            rows += 1
    return rows


def restore(dump, roles_sql, target_port, target_db, work_dir, sabotage=None):
    """Roles first, then the database, owned by the owner, as in the dump."""
    with open(roles_sql) as f:
        # The bootstrap superuser exists in every cluster: its CREATE is the
        # one statement that must not run again (its ALTER does no harm).
        roles = "".join(l for l in f if l.strip() != "CREATE ROLE postgres;")
    # A file, not -c: pg_dumpall writes psql meta-commands (\restrict).
    filtered = os.path.join(work_dir, "roles-to-restore.sql")
    with open(filtered, "w") as f:
        f.write(roles)
    target_admin = "host=127.0.0.1 port=%d dbname=postgres user=postgres" % (
        target_port)
    run(["psql", target_admin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f",
         filtered], "restoring the roles")
    run(["createdb", "-h", "127.0.0.1", "-p", str(target_port), "-U",
         "postgres", "-O", "hitl_owner", target_db], "createdb")
    cmd = ["pg_restore", "--exit-on-error", "-h", "127.0.0.1", "-p",
           str(target_port), "-U", "postgres", "-d", target_db]
    if sabotage == "grants":
        cmd.append("--no-privileges")
    if sabotage == "audit-data":
        listing = run(["pg_restore", "-l", dump], "pg_restore -l")
        kept = os.path.join(work_dir, "restore.list")
        with open(kept, "w") as f:
            f.write("\n".join(l for l in listing.splitlines()
                              if "TABLE DATA public hitl_audit_logs " not in l))
        cmd += ["-L", kept]
    run(cmd + [dump], "pg_restore")


