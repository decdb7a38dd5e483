-- The cluster feed (SPEC §8, "Reads across nodes"): every node reads the
-- audit entries other nodes committed, partition by partition, after the
-- position it has seen (`pseq > known AND pseq <= chain_seq`). Without an
-- index that is a scan of the whole log every 100 ms. Unique, because a
-- place in a partition's chain is held by exactly one entry: the fence and
-- the chain check already make it so, and now the database says it too.
-- Entries of the single chain before 021 have no partition and stay out.
CREATE UNIQUE INDEX hitl_audit_partition_pseq ON hitl_audit_logs
  (partition_id, pseq) WHERE partition_id IS NOT NULL;
