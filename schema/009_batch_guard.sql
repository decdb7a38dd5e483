-- The auditor writes a whole batch as one statement (persistence/
-- batch_writes.cpp, "batch_write"). Its audit entries are sealed before the
-- statement runs, on the assumption that every guarded update finds the
-- version it expects. This makes the statement fail, and so write nothing,
-- when one did not; the auditor then writes the batch the slow way, sealing
-- only what was written. SQLSTATE HT409 is ours alone.
CREATE FUNCTION hitl_all_written(written bigint, expected bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  IF written <> expected THEN
    RAISE EXCEPTION '% of % decisions changed meanwhile',
      expected - written, expected
      USING ERRCODE = 'HT409';
  END IF;
  RETURN written;
END;
$$;
