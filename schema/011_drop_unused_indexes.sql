-- Two indexes of 001 that no query reads: nothing filters or sorts on
-- sla_deadline (the SLA timers live in the actors; recovery scans the open
-- decisions through the partial indexes on `decision`) nor on decided_at
-- (the analytics aggregate over every row). Each cost an index entry on every
-- created decision, and, since a change of state is never a HOT update, on
-- every verdict and escalation too.
DROP INDEX idx_hitl_decisions_sla_deadline;
DROP INDEX idx_hitl_decisions_decided_at;
