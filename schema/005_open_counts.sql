-- Exact counts of open decisions by priority and severity, kept by
-- statement-level triggers, so that the pending queue's `total` is a lookup
-- of at most 16 rows instead of a count over every open decision. The
-- auditor is the only writer, so the counter rows see no contention.

CREATE TABLE hitl_open_counts (
  priority  varchar(20) NOT NULL
            CHECK (priority IN ('low', 'medium', 'high', 'critical')),
  severity  varchar(20) NOT NULL
            CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  n         bigint NOT NULL DEFAULT 0 CHECK (n >= 0),
  PRIMARY KEY (priority, severity)
);

INSERT INTO hitl_open_counts (priority, severity, n)
SELECT p, s, (SELECT count(*) FROM hitl_decisions d
              WHERE d.priority = p AND d.severity = s
                AND d.decision IN ('pending', 'escalated'))
FROM unnest(ARRAY['low', 'medium', 'high', 'critical']) p,
     unnest(ARRAY['low', 'medium', 'high', 'critical']) s;

-- One function per operation: each names only the transition tables its
-- trigger has. Priority and severity never change on a row, so an update's
-- change in open rows per (priority, severity) is new minus old.
CREATE FUNCTION hitl_open_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n + d.k
  FROM (SELECT priority, severity, count(*) AS k FROM new_rows
        WHERE decision IN ('pending', 'escalated')
        GROUP BY priority, severity) d
  WHERE c.priority = d.priority AND c.severity = d.severity;
  RETURN NULL;
END;
$$;

CREATE FUNCTION hitl_open_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n + d.delta
  FROM (
    SELECT priority, severity, sum(k) AS delta FROM (
      SELECT priority, severity, 1 AS k FROM new_rows
        WHERE decision IN ('pending', 'escalated')
      UNION ALL
      SELECT priority, severity, -1 FROM old_rows
        WHERE decision IN ('pending', 'escalated')) x
    GROUP BY priority, severity) d
  WHERE c.priority = d.priority AND c.severity = d.severity AND d.delta <> 0;
  RETURN NULL;
END;
$$;

CREATE FUNCTION hitl_open_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n - d.k
  FROM (SELECT priority, severity, count(*) AS k FROM old_rows
        WHERE decision IN ('pending', 'escalated')
        GROUP BY priority, severity) d
  WHERE c.priority = d.priority AND c.severity = d.severity;
  RETURN NULL;
END;
$$;

CREATE TRIGGER hitl_decisions_open_counts_insert
  AFTER INSERT ON hitl_decisions REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION hitl_open_counts_insert();
CREATE TRIGGER hitl_decisions_open_counts_update
  AFTER UPDATE ON hitl_decisions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION hitl_open_counts_update();
CREATE TRIGGER hitl_decisions_open_counts_delete
  AFTER DELETE ON hitl_decisions REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION hitl_open_counts_delete();
