#pragma once

#include "actors/auditor.hpp"
#include "actors/checkpoint_signer.hpp"
#include "actors/cluster_feed.hpp"
#include "actors/db_reader.hpp"
#include "actors/metrics_actor.hpp"
#include "actors/notifier.hpp"
#include "actors/supervisor.hpp"
#include "policy/service_settings.hpp"
#include "persistence/fwd.hpp"

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include <memory>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace hitl {

class change_clock;

/// The running actors of one service node.
struct service_actors {
  auditor_actor auditor;
  db_reader_actor reader;
  metrics_actor metrics;
  supervisor_actor supervisor;
  notifier_actor notifier;
  /// Every node's commits, read back from the log (SPEC §8): the live
  /// stream, long-polls, and the caches' view of other nodes' writes.
  cluster_feed_actor feed;
  /// How far the feed has come, for reads that ask for a position.
  std::shared_ptr<feed_positions> positions;
  /// Who follows the feed's events here: the live stream counts its
  /// clients into it.
  std::shared_ptr<feed_audience> audience;
  /// Signs checkpoints of the chain; null without `audit.signing_key`.
  checkpoint_signer_actor checkpoint_signer;
  /// The signing key's public PEM (GET /hitl/audit/public-key); empty
  /// without a key.
  std::string audit_public_key_pem;
  /// Advanced by the auditor at each commit; read caches check against it.
  std::shared_ptr<change_clock> changes;
  size_t recovered = 0;
};

/// Where a node's open decisions come from.
enum class open_decisions {
  /// Every one, loaded at start: the node holds every partition (no
  /// membership).
  load_all,
  /// Those of the partitions its membership says it holds, loaded by the
  /// supervisor when it is told (SPEC §8).
  from_membership,
};

/// Reads `audit.signing_key` if set (throws signature_error when it cannot),
/// loads what recovery needs (the open decisions as `open` says, the totals
/// behind the gauges), then spawns auditor, readers, metrics, notifier,
/// supervisor and the checkpoint signer, in that order. Blocks on the
/// database: call it before serving. Throws db_error.
service_actors start_service(caf::actor_system& sys, connection_pool& pool,
                             const service_settings& config,
                             std::shared_ptr<prometheus::Registry> registry,
                             open_decisions open = open_decisions::load_all);

/// Stops the actors in the reverse order of their start. In-flight commits
/// are answered first: the auditor is the last to go.
void stop_service(caf::actor_system& sys, service_actors& actors);

} // namespace hitl
