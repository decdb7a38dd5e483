-- Several nodes on one database (SPEC §8): membership and ownership live
-- here, on the database's clock, so that no node's clock decides who owns
-- what.
--
-- A patch's partition, the same function as policy/partition.cpp: the first
-- byte of SHA-256 of the patch id's UTF-8 bytes.
CREATE FUNCTION hitl_partition_of(patch_id text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT get_byte(sha256(convert_to(patch_id, 'UTF8')), 0)
$$;

-- A node's lease. A node is live while lease_until > now(); it renews
-- every 1.5 s for 6 s. The row stays after the node stops, so that
-- `hitl cluster status` shows when each node was last seen.
CREATE TABLE hitl_nodes (
  node_id uuid PRIMARY KEY,
  -- Where its CAF gateway and its HTTP edge listen (host:port), as the
  -- other nodes reach them; no gateway: NULL (a node that forwards nothing).
  node_endpoint text CHECK (length(node_endpoint) BETWEEN 1 AND 300),
  http_endpoint text NOT NULL CHECK (length(http_endpoint) BETWEEN 1 AND 300),
  -- Nodes share partitions only with nodes of the same policy and wire
  -- versions (a rolling deploy changes them).
  policy_version text NOT NULL CHECK (length(policy_version) BETWEEN 1 AND 100),
  wire_version integer NOT NULL CHECK (wire_version > 0),
  started_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz NOT NULL
);

-- A partition's owner and fencing epoch. Every acquisition increments the
-- epoch; every group commit names the epochs it was written under and is
-- refused by hitl_fence when one moved, so a node that lost a partition
-- (killed, paused, cut off) can never commit to it again.
CREATE TABLE hitl_partitions (
  partition_id smallint PRIMARY KEY CHECK (partition_id BETWEEN 0 AND 255),
  owner_node uuid REFERENCES hitl_nodes (node_id),
  epoch bigint NOT NULL DEFAULT 0 CHECK (epoch >= 0),
  acquired_at timestamptz
);
INSERT INTO hitl_partitions (partition_id)
SELECT p FROM generate_series(0, 255) AS p;

-- Raises SQLSTATE HT410 unless `node` holds each of `partitions` at the
-- matching element of `epochs`; true otherwise, and for a NULL node (a
-- writer that is no cluster member: tests, tools). Called inside the
-- writing statement or transaction (the auditor's batch names it in its
-- result), it locks those rows (FOR SHARE) until commit, so an acquisition
-- waits for a commit in flight and then moves the epoch on: no write slips
-- past a takeover. Row locks are re-checked against the newest row version
-- (READ COMMITTED), so an acquisition that committed after the writing
-- statement began is seen.
CREATE FUNCTION hitl_fence(node uuid, partitions smallint[], epochs bigint[])
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  held integer;
BEGIN
  IF node IS NULL THEN
    RETURN true;
  END IF;
  IF cardinality(partitions) IS DISTINCT FROM cardinality(epochs) THEN
    RAISE EXCEPTION 'hitl_fence: % partitions but % epochs',
      cardinality(partitions), cardinality(epochs);
  END IF;
  SELECT count(*) INTO held FROM (
    SELECT 1
    FROM hitl_partitions p
    JOIN unnest(partitions, epochs) AS f(partition_id, epoch)
      ON f.partition_id = p.partition_id
    WHERE p.owner_node = node AND p.epoch = f.epoch
    FOR SHARE OF p) AS matched;
  IF held <> cardinality(partitions) THEN
    RAISE EXCEPTION 'node % no longer holds every partition it writes to', node
      USING ERRCODE = 'HT410';
  END IF;
  RETURN true;
END
$$;
