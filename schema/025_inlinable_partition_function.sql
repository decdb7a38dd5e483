-- hitl_partition_of written so that PostgreSQL can inline it, as 010 did
-- for the time functions. 019's body calls convert_to, which is only
-- STABLE, so this IMMUTABLE function ran as an SQL function: its body
-- parsed and planned again in every statement that calls it. Every group
-- commit calls it: the open counts' triggers (for each decision a verdict
-- closes) and the open-by-partition index of 020 (for each decision
-- created). One node planned the body 14,392 times in an 8 s run.
--
-- In a UTF8 database a text value's bytes are its UTF-8 bytes, and
-- decode(..., 'escape') of the text with its backslashes doubled gives
-- exactly those bytes; decode, replace, sha256 and get_byte are all
-- IMMUTABLE. `hitl migrate` refuses a database of another encoding.
--
-- The values do not change, so neither 020's index nor the open counts
-- need rebuilding: the migration checks that on every stored patch id
-- before it replaces the function, and refuses otherwise.
DO $migration$
BEGIN
  IF pg_catalog.current_setting('server_encoding') <> 'UTF8' THEN
    RAISE EXCEPTION 'hitl_partition_of: the database''s encoding is not UTF8';
  END IF;
  IF EXISTS (
      SELECT 1 FROM hitl_decisions
      WHERE get_byte(sha256(decode(replace(patch_id, E'\\', E'\\\\'), 'escape')), 0)
            <> get_byte(sha256(convert_to(patch_id, 'UTF8')), 0)) THEN
    RAISE EXCEPTION 'hitl_partition_of: the inlinable body disagrees with the stored partitions';
  END IF;
END;
$migration$;

CREATE OR REPLACE FUNCTION hitl_partition_of(patch_id text)
RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT get_byte(sha256(decode(replace(patch_id, E'\\', E'\\\\'), 'escape')), 0)
$$;
