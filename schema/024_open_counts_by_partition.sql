-- The open counts of 005 by partition as well (SPEC §8). 005 kept one row
-- per (priority, severity) because one auditor was their only writer. In a
-- cluster every node's group commit went through the same few rows, and a
-- row an UPDATE has locked stays locked until its transaction commits, its
-- WAL flush included: the nodes' commits queued behind each other, and
-- three nodes served a third of one node's creations.
--
-- Each partition's rows are written only by the node that holds it, so
-- nodes no longer share a counter row. A row is made the first time its
-- partition has an open decision of that priority and severity, not ahead:
-- the totals are sums over the rows there are, and a queue of one kind of
-- decision sums 256 rows, not 4,096.
ALTER TABLE hitl_open_counts
  ADD COLUMN partition_id smallint NOT NULL DEFAULT 0
    CHECK (partition_id BETWEEN 0 AND 255);
ALTER TABLE hitl_open_counts ALTER COLUMN partition_id DROP DEFAULT;
ALTER TABLE hitl_open_counts DROP CONSTRAINT hitl_open_counts_pkey;
TRUNCATE hitl_open_counts;
ALTER TABLE hitl_open_counts
  ADD PRIMARY KEY (priority, severity, partition_id);

INSERT INTO hitl_open_counts (priority, severity, partition_id, n)
SELECT priority, severity, hitl_partition_of(patch_id), count(*)
FROM hitl_decisions
WHERE hitl_decision_is_open(decision)
GROUP BY 1, 2, 3;

-- Rows are locked in key order (ORDER BY), so two transactions that touch
-- the same rows (a partition being handed over) wait, never deadlock.
-- Increments add the row when it is missing; a decrement's row exists, for
-- the decision it counts down was counted in it.
CREATE OR REPLACE FUNCTION hitl_open_counts_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO hitl_open_counts AS c (priority, severity, partition_id, n)
  SELECT priority, severity, hitl_partition_of(patch_id), count(*)
  FROM new_rows
  WHERE hitl_decision_is_open(decision)
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT (priority, severity, partition_id)
    DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hitl_open_counts_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  WITH d AS (
    SELECT priority, severity, hitl_partition_of(patch_id) AS partition_id,
      sum(k) AS delta
    FROM (
      SELECT priority, severity, patch_id, 1 AS k FROM new_rows
        WHERE hitl_decision_is_open(decision)
      UNION ALL
      SELECT priority, severity, patch_id, -1 FROM old_rows
        WHERE hitl_decision_is_open(decision)) x
    GROUP BY 1, 2, 3),
  down AS (
    UPDATE hitl_open_counts c SET n = c.n + d.delta
    FROM d
    WHERE c.priority = d.priority AND c.severity = d.severity
      AND c.partition_id = d.partition_id AND d.delta < 0)
  INSERT INTO hitl_open_counts AS c (priority, severity, partition_id, n)
  SELECT priority, severity, partition_id, delta FROM d
  WHERE delta > 0
  ORDER BY 1, 2, 3
  ON CONFLICT (priority, severity, partition_id)
    DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION hitl_open_counts_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE hitl_open_counts c SET n = c.n - d.k
  FROM (SELECT priority, severity, hitl_partition_of(patch_id) AS partition_id,
          count(*) AS k
        FROM old_rows
        WHERE hitl_decision_is_open(decision)
        GROUP BY 1, 2, 3) d
  WHERE c.priority = d.priority AND c.severity = d.severity
    AND c.partition_id = d.partition_id;
  RETURN NULL;
END;
$$;
