-- Whose claim a delivery is under (SPEC §7, §8). A notifier claims due
-- rows for the length of one attempt and the bookkeeping after it (about
-- 30 s); the claim now names its node, so that when that node's lease ends
-- (killed, cut off, stopped) the other nodes release its claims at once,
-- rather than leave its deliveries waiting out the claim. A node released
-- this way that still sends (it was only paused) delivers a second time
-- under the same X-HITL-Delivery id: deliveries stay at least once.
--
-- No reference to hitl_nodes: a claim must not wait on a lease's renewal,
-- and writers outside the cluster (tests, tools) claim with no node.
ALTER TABLE hitl_outbox ADD COLUMN claimed_by uuid;

-- The claims in flight: a handful of rows per node, looked at on every
-- notifier tick.
CREATE INDEX hitl_outbox_claimed ON hitl_outbox (claimed_by)
  WHERE claimed_by IS NOT NULL;

-- Claims are made per target, so that a receiver that hangs holds up only
-- its own deliveries: the due rows of one target, in order.
CREATE INDEX hitl_outbox_due_by_target ON hitl_outbox
  (target_url, next_attempt_at) WHERE state = 'pending';
