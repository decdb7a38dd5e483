#pragma once

#include "actors/actor_failures.hpp"
#include "policy/service_settings.hpp"
#include "persistence/fwd.hpp"

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>
#include <vector>

namespace hitl {

class signing_key;

struct checkpoint_signer_options {
  std::shared_ptr<const signing_key> key;
  audit_settings settings;
  /// Those that want `audit.checkpoint` get an outbox row per checkpoint.
  std::vector<webhook_subscription> webhooks;
  actor_failures failures;
};

/// The tick of the signer's own clock: a type that only
/// checkpoint_signer.cpp defines, so that no one else can send it.
struct checkpoint_tick;

/// The checkpoint signer takes nothing from others: it works on its own
/// clock, and its handle serves to stop it.
using checkpoint_signer_actor =
  caf::typed_actor<caf::reacts_to<checkpoint_tick>>;

/// Spawns the checkpoint signer (SPEC §11): every
/// `audit.checkpoint_seconds`, or once `audit.checkpoint_entries` entries
/// were appended (it then looks once a second), it reads the chain head as
/// committed, and if the chain moved since the last checkpoint it signs
/// `{seq, hash, at, count}` and stores it in hitl_audit_checkpoints with an
/// outbox row for each webhook that wants `audit.checkpoint` (one
/// transaction), then appends it to `audit.checkpoint_file` (fsync'd). A
/// head behind or beside the last checkpoint is not signed: it is logged as
/// an error, for only tampering makes it. Detached: its database calls
/// block only its own thread.
checkpoint_signer_actor
spawn_checkpoint_signer(caf::actor_system& sys, connection_pool& pool,
                        checkpoint_signer_options opts);

} // namespace hitl
