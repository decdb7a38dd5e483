#pragma once

#include "actors/actor_failures.hpp"
#include "actors/atoms.hpp"
#include "actors/event_listener.hpp"
#include "actors/messages.hpp"
#include "actors/wall_clock.hpp"
#include "policy/service_settings.hpp"
#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <vector>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hitl {

class change_clock;

struct auditor_options {
  std::vector<webhook_subscription> webhooks;
  /// Base of the decision links in webhook payloads.
  std::string public_url;
  /// Most changes committed in one transaction. Under normal load a batch
  /// holds what arrived during the previous commit (a few dozen); the bound
  /// matters when many SLA deadlines fall together, where larger batches
  /// drain the queue sooner for everyone behind it.
  size_t max_batch = 4096;
  /// Where hitl_audit_entries_total, hitl_audit_commits_total and
  /// hitl_audit_batch_size go (none when null).
  std::shared_ptr<prometheus::Registry> registry;
  /// Advanced after each commit, before anyone is answered (may be null).
  std::shared_ptr<change_clock> changes;
  /// Where an exception that reaches the auditor is logged and counted.
  actor_failures failures;
  /// The time its audit entries and events carry.
  wall_clock clock = system_wall_clock();
  /// On its own thread, so that its database calls block no other actor.
  /// False only under CAF's test coordinator, which then runs it with the
  /// other actors, one message at a time, on the test's thread.
  bool detached = true;
};

/// The auditor's protocol:
///   (commit, commit_request) -> commit_receipt  (after its COMMIT)
///   (subscribe, event_listener)  (every committed batch goes to it)
///   (expire)  (append the token_expired entries not yet in the chain)
///   (stats) -> auditor_stats
///   (ping) -> bool  (its writer's connection is usable; writes nothing)
///   (partitions, held_partitions)  (from the membership: from the first on,
///       every batch is fenced by the partitions it writes to, and a change
///       of a patch in a partition not held is refused, 503)
using auditor_actor = caf::typed_actor<
  caf::replies_to<atoms::commit, commit_request>::with<commit_receipt>,
  caf::reacts_to<atoms::subscribe, event_listener>,
  caf::reacts_to<atoms::expire>,
  caf::replies_to<atoms::stats>::with<auditor_stats>,
  caf::replies_to<atoms::ping>::with<bool>,
  caf::reacts_to<atoms::partitions, held_partitions>>;

/// Spawns the auditor: the single writer of decisions, the audit chain and
/// the outbox. It takes `(commit, commit_request)` from every patch actor,
/// commits whatever arrived while the previous transaction was in flight as
/// one transaction (group commit), and answers each requester with a
/// commit_receipt only after its COMMIT, in order. Up to two batches are in
/// flight on one connection in pipeline mode
/// (persistence/pipelined_writer.hpp). Detached: its database calls block
/// only its own thread. Committed events go to every listener that sent
/// `(subscribe, listener)`. `(expire)`: appends a `token_expired` entry for
/// each token that expired without one (once per token, also across
/// restarts and serves). `(ping) -> bool`: whether its writer's connection
/// is usable (for /health; writes nothing). An exception in the middle of a
/// batch answers that batch's requesters `internal`, those in flight
/// `unavailable` (in doubt), and the auditor goes on with a new connection.
auditor_actor spawn_auditor(caf::actor_system& sys, connection_pool& pool,
                            auditor_options opts);

} // namespace hitl
