-- The ML/wargaming agreement depends only on the two results, which never
-- change after creation; firing on every state change (verdicts,
-- escalations) cost a PL/pgSQL call per row of each batch.
DROP TRIGGER hitl_decisions_agreement ON hitl_decisions;
CREATE TRIGGER hitl_decisions_agreement
  BEFORE INSERT OR UPDATE OF ml_prediction, wargaming_passed
  ON hitl_decisions
  FOR EACH ROW EXECUTE FUNCTION hitl_ml_wargaming_agreement();
