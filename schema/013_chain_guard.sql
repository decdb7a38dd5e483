-- The auditor may send a batch before the previous one's answer is back
-- (persistence/pipelined_writer.cpp). Each batch's entries were sealed after
-- the previous batch's last entry, so a batch must write nothing unless the
-- log ends exactly there: if the previous batch was refused, this one fails
-- too, and the auditor seals it again after the real end. The batch
-- statement checks it with this function; SQLSTATE HT412 is ours alone.
-- STABLE, so that it reads the log as the statement found it, without the
-- entries that the statement itself appends.
CREATE FUNCTION hitl_chain_follows(after_seq bigint, after_hash text)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  tail_seq bigint;
  tail_hash text;
BEGIN
  IF after_seq IS NULL THEN
    RETURN true; -- a batch without audit entries
  END IF;
  SELECT seq, hash INTO tail_seq, tail_hash
  FROM hitl_audit_logs ORDER BY seq DESC LIMIT 1;
  IF coalesce(tail_seq, 0) <> after_seq
     OR (tail_seq IS NOT NULL AND tail_hash <> after_hash) THEN
    RAISE EXCEPTION 'the audit log ends at % (%), not at % (%)',
      coalesce(tail_seq, 0), coalesce(left(tail_hash, 12), 'genesis'),
      after_seq, left(after_hash, 12)
      USING ERRCODE = 'HT412';
  END IF;
  RETURN true;
END;
$$;
