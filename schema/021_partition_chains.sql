-- One audit chain per partition (SPEC §5, §8): a single chain needs one
-- writer for the whole cluster. Each entry from now on names its partition,
-- its place in that partition's chain (pseq, dense from 1) and the epoch it
-- was written under, and its hash covers them (policy/audit_chain.hpp). The
-- entries written before this migration are the common prefix: each
-- partition's chain starts where it ends. Nothing is rewritten: the new
-- columns are NULL for the prefix, and its hashes stay as they are.
ALTER TABLE hitl_audit_logs
  ADD COLUMN partition_id smallint,
  ADD COLUMN pseq bigint,
  ADD COLUMN epoch bigint;

-- NOT VALID: the prefix is not scanned, but every row written from now on is
-- checked, so nothing can join the prefix any more.
ALTER TABLE hitl_audit_logs
  ADD CONSTRAINT hitl_audit_logs_in_partition CHECK (
    partition_id IS NOT NULL AND partition_id BETWEEN 0 AND 255
    AND pseq IS NOT NULL AND pseq >= 1
    AND epoch IS NOT NULL AND epoch >= 0) NOT VALID;

-- No index on (partition_id, pseq): the chain guard below keeps one entry
-- per place, verify walks the log by seq, and the index cost 4 to 5 % of
-- the creations a second (4 interleaved pairs).

-- seq stays unique, now from a sequence at insert time: several writers
-- seal at once, and an entry's hash covers its place in its partition
-- instead. Taken at insert, it is in commit order, so within a chain it
-- grows with pseq (audit verify checks that too).
CREATE SEQUENCE hitl_audit_seq OWNED BY hitl_audit_logs.seq;
SELECT setval('hitl_audit_seq', coalesce(max(seq), 0) + 1, false)
FROM hitl_audit_logs;
ALTER TABLE hitl_audit_logs
  ALTER COLUMN seq SET DEFAULT nextval('hitl_audit_seq');

-- Where the common prefix ends: one row, written here and never again (the
-- runtime role may only read it). Every partition's first entry links to
-- its hash; checkpoints and audit verify name it.
CREATE TABLE hitl_audit_prefix (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  seq bigint NOT NULL CHECK (seq >= 0),
  hash char(64) NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
);
INSERT INTO hitl_audit_prefix (seq, hash)
SELECT coalesce(max(seq), 0),
       coalesce((SELECT hash FROM hitl_audit_logs ORDER BY seq DESC LIMIT 1),
                repeat('0', 64))
FROM hitl_audit_logs;

CREATE TRIGGER hitl_audit_prefix_no_update_delete
  BEFORE UPDATE OR DELETE ON hitl_audit_prefix
  FOR EACH ROW EXECUTE FUNCTION hitl_append_only();

-- Each partition's chain head, moved by the commit that appends to it.
ALTER TABLE hitl_partitions
  ADD COLUMN chain_seq bigint NOT NULL DEFAULT 0 CHECK (chain_seq >= 0),
  ADD COLUMN chain_hash char(64) NOT NULL DEFAULT repeat('0', 64)
    CHECK (chain_hash ~ '^[0-9a-f]{64}$');
UPDATE hitl_partitions SET chain_hash = (SELECT hash FROM hitl_audit_prefix);

-- The fence and the chain guard in one statement (replacing hitl_fence and
-- hitl_chain_follows in the auditor's batch): each named partition's chain
-- moves from (after_pseq, after_hash) to (to_pseq, to_hash), and only if
-- `node` still holds it at the named epoch (any holder for a NULL node: a
-- writer that is no cluster member, e.g. `hitl token create`). Otherwise
-- nothing is written: HT410 when the node lost a partition (it drops it),
-- HT412 when a chain moved since the batch was sealed (it seals again).
-- The rows stay locked until commit, so an acquisition waits for a commit in
-- flight and then moves the epoch on: no write slips past a takeover.
CREATE FUNCTION hitl_advance_chains(
  node uuid, partitions smallint[], epochs bigint[],
  after_pseqs bigint[], after_hashes text[],
  to_pseqs bigint[], to_hashes text[])
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  n integer := cardinality(partitions);
  moved integer;
BEGIN
  IF partitions IS NULL THEN
    RETURN true;
  END IF;
  IF cardinality(epochs) IS DISTINCT FROM n
     OR cardinality(after_pseqs) IS DISTINCT FROM n
     OR cardinality(after_hashes) IS DISTINCT FROM n
     OR cardinality(to_pseqs) IS DISTINCT FROM n
     OR cardinality(to_hashes) IS DISTINCT FROM n THEN
    RAISE EXCEPTION 'hitl_advance_chains: arrays of different lengths';
  END IF;
  UPDATE hitl_partitions p
  SET chain_seq = c.to_pseq, chain_hash = c.to_hash
  FROM unnest(partitions, epochs, after_pseqs, after_hashes, to_pseqs,
              to_hashes)
       AS c(partition_id, epoch, after_pseq, after_hash, to_pseq, to_hash)
  WHERE p.partition_id = c.partition_id
    AND (node IS NULL OR (p.owner_node = node AND p.epoch = c.epoch))
    AND p.chain_seq = c.after_pseq AND p.chain_hash = c.after_hash;
  GET DIAGNOSTICS moved = ROW_COUNT;
  IF moved = n THEN
    RETURN true;
  END IF;
  IF node IS NOT NULL AND EXISTS (
      SELECT 1 FROM hitl_partitions p
      JOIN unnest(partitions, epochs) AS f(partition_id, epoch)
        ON f.partition_id = p.partition_id
      WHERE p.owner_node IS DISTINCT FROM node OR p.epoch <> f.epoch) THEN
    RAISE EXCEPTION 'node % no longer holds every partition it writes to',
      node USING ERRCODE = 'HT410';
  END IF;
  RAISE EXCEPTION 'the audit chain of % of % partition(s) moved since the batch was sealed',
    n - moved, n USING ERRCODE = 'HT412';
END
$$;

DROP FUNCTION hitl_chain_follows(bigint, text);
DROP FUNCTION hitl_fence(uuid, smallint[], bigint[]);

-- Checkpoints of the per-partition chains hold every head; `hash` is their
-- root (policy/audit_checkpoint.hpp). NULL: a checkpoint of the single
-- chain, from before this migration.
ALTER TABLE hitl_audit_checkpoints
  ADD COLUMN heads jsonb CHECK (jsonb_typeof(heads) = 'object');
