-- Taking a partition over (SPEC §8): the new owner loads that partition's
-- open decisions, and escalations that fell due meanwhile fire once.
--
-- The open decisions by partition, for the loading: a takeover reads a few
-- partitions' open decisions without computing SHA-256 for every open
-- decision of the cluster. An expression index needs no table rewrite. Its
-- predicate is the literal one of the other partial indexes (see 018).
CREATE INDEX hitl_decisions_open_by_partition ON hitl_decisions
  (hitl_partition_of(patch_id))
  WHERE decision IN ('pending', 'escalated');

-- The last guard against an escalation sent twice: the epoch fence and the
-- decision's version check already stop a second commit of the same level,
-- and this makes the outbox itself refuse a second delivery of one
-- (decision, target, level).
CREATE UNIQUE INDEX hitl_outbox_one_escalation ON hitl_outbox
  (decision_id, target_url, ((payload -> 'escalation' ->> 'level')::integer))
  WHERE event = 'decision.escalated';
