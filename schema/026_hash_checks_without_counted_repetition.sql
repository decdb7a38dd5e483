-- The 64-hex-digit checks that 008 left as an anchored counted repetition
-- ('^[0-9a-f]{64}$'), written as 008 wrote the others: a length and a
-- search for one character outside the set. The counted form costs some
-- 5 µs an evaluation against 0.5 µs (100,000 hashes, PostgreSQL 15), and
-- hitl_partitions pays it on every row a batch moves the chain head of:
-- one per partition the batch writes to, in every group commit (a batch of
-- 5 rows: 0.30 ms of UPDATE against 0.07 ms without the check, in psql).
-- The others are written rarely; they change for one rule in one form.

ALTER TABLE hitl_partitions
  DROP CONSTRAINT hitl_partitions_chain_hash_check,
  ADD CONSTRAINT hitl_partitions_chain_hash_check CHECK (
    length(chain_hash) = 64 AND chain_hash !~ '[^0-9a-f]');

ALTER TABLE hitl_api_tokens
  DROP CONSTRAINT hitl_api_tokens_token_hash_check,
  ADD CONSTRAINT hitl_api_tokens_token_hash_check CHECK (
    length(token_hash) = 64 AND token_hash !~ '[^0-9a-f]');

ALTER TABLE hitl_audit_checkpoints
  DROP CONSTRAINT hitl_audit_checkpoints_hash_check,
  ADD CONSTRAINT hitl_audit_checkpoints_hash_check CHECK (
    length(hash) = 64 AND hash !~ '[^0-9a-f]');

ALTER TABLE hitl_audit_prefix
  DROP CONSTRAINT hitl_audit_prefix_hash_check,
  ADD CONSTRAINT hitl_audit_prefix_hash_check CHECK (
    length(hash) = 64 AND hash !~ '[^0-9a-f]');
