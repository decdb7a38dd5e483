#pragma once

// What the actors say to each other: plain values, no HTTP, no SQL. Each
// has an `inspect` overload (CAF 0.17), so that it can be serialized when a
// message has to cross a node boundary; the few that hold what only this
// process can use (a callback, events shared in memory) say so and stay
// local (CAF_ALLOW_UNSAFE_MESSAGE_TYPE at the end).

#include "actors/atoms.hpp"
#include "actors/optional_field.hpp"
#include "actors/policy_inspect.hpp"
#include "policy/api_token.hpp"
#include "policy/audit_export_format.hpp"
#include "policy/audit_filter.hpp"
#include "policy/decision.hpp"
#include "policy/decision_summary.hpp"
#include "policy/lifecycle.hpp"
#include "policy/pending_queue.hpp"
#include "policy/role.hpp"
#include "policy/verification_report.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hitl {

// -- who asks -----------------------------------------------------------------

/// Who asks, as the HTTP edge authenticated them.
struct caller {
  std::string name;
  hitl::role role = role::service;
  std::optional<std::string> ip_address;
  std::optional<std::string> user_agent;
  /// The id of the token it authenticated with (recorded with approvals).
  std::optional<int64_t> token_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, caller& x) {
  return f(caf::meta::type_name("caller"), x.name, x.role,
           optional_field(x.ip_address), optional_field(x.user_agent),
           optional_field(x.token_id));
}

// -- the write path -----------------------------------------------------------

/// A human action on the open decision of a patch.
struct verdict_request {
  std::string patch_id;
  /// When given, must name the patch's open decision.
  std::optional<std::string> decision_id;
  std::optional<std::string> comment;
  /// Required for reject; optional for cancel.
  std::optional<std::string> reason;
  hitl::caller caller;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, verdict_request& x) {
  return f(caf::meta::type_name("verdict_request"), x.patch_id,
           optional_field(x.decision_id), optional_field(x.comment),
           optional_field(x.reason), x.caller);
}

struct create_request {
  new_decision content;
  /// content_hash(content), computed on the I/O thread that parsed it:
  /// the supervisor serves every creation, so it should not do the hashing.
  std::string content_hash;
  hitl::caller caller;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_request& x) {
  return f(caf::meta::type_name("create_request"), x.content, x.content_hash,
           x.caller);
}

/// The creation of `nd` by `who`, its content hashed by the sender.
inline create_request make_create_request(new_decision nd, hitl::caller who) {
  auto hash = content_hash(nd);
  return {std::move(nd), std::move(hash), std::move(who)};
}

/// The creation's answer: the record, and whether it was new (201) or an
/// idempotent repeat of an existing one (200).
struct create_result {
  decision_record record;
  bool created = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, create_result& x) {
  return f(caf::meta::type_name("create_result"), x.record, x.created);
}

/// A change for the auditor to commit, with who caused it.
struct commit_request {
  hitl::change change;
  hitl::caller caller;
  /// The stored version the change was computed from; 0 for a creation.
  int64_t expected_version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_request& x) {
  return f(caf::meta::type_name("commit_request"), x.change, x.caller,
           x.expected_version);
}

/// What the auditor committed.
struct commit_receipt {
  decision_record record;
  /// The place of the change's last audit entry in its partition's chain.
  int64_t last_pseq = 0;
  std::optional<hitl::comment> comment;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, commit_receipt& x) {
  return f(caf::meta::type_name("commit_receipt"), x.record, x.last_pseq,
           optional_field(x.comment));
}

/// A long-poll: wait until the decision is final, `seconds` at most.
struct decision_wait {
  std::string decision_id;
  int seconds = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_wait& x) {
  return f(caf::meta::type_name("decision_wait"), x.decision_id, x.seconds);
}

/// An SLA level of a decision falls due: from its patch actor's timer,
/// passed on by the supervisor when that timer was far away.
struct escalation {
  std::string decision_id;
  int level = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, escalation& x) {
  return f(caf::meta::type_name("escalation"), x.decision_id, x.level);
}

/// The auditor's own counters, for tests and the group-commit benchmark.
struct auditor_stats {
  int64_t transactions = 0;
  int64_t entries = 0;
  int64_t failed_batches = 0;
  /// Pipelined batches sealed again because one before them was refused.
  int64_t resealed_batches = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auditor_stats& x) {
  return f(caf::meta::type_name("auditor_stats"), x.transactions, x.entries,
           x.failed_batches, x.resealed_batches);
}

// -- committed events (local) -------------------------------------------------

/// A committed event, published after the commit to the metrics actor, the
/// notifier and the live event stream.
struct committed_event {
  std::string name;
  /// Shared, not copied, by the listeners of one commit.
  std::shared_ptr<const decision_record> record;
  std::optional<hitl::comment> comment;
  timestamp at;
  /// The change's audit entries in its partition's chain: the events of
  /// one change share them.
  int partition = 0;
  int64_t first_pseq = 0;
  int64_t last_pseq = 0;
};

/// The events of one committed batch, in commit order: one message per
/// listener and batch, not per event, because each message to the detached
/// notifier wakes its thread. Local: the listeners of one node share the
/// batch in memory; another node would hear of commits its own way.
using committed_events = std::shared_ptr<const std::vector<committed_event>>;

// -- cluster ------------------------------------------------------------------

/// The partitions a node holds and their fencing epochs (SPEC §8), from its
/// membership to its auditor: what the auditor's batches may write to.
/// `partitions[i]` is held at `epochs[i]`.
struct held_partitions {
  std::string node_id;
  std::vector<int> partitions;
  std::vector<int64_t> epochs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, held_partitions& x) {
  return f(caf::meta::type_name("held_partitions"), x.node_id, x.partitions,
           x.epochs);
}

/// Who holds each partition and where each live node's gateway listens
/// (SPEC §8): from the membership to the router, after every scan that
/// changed it.
struct partition_map {
  /// By partition: the node id of its live owner; empty when it has none.
  std::vector<std::string> owners;
  /// The live nodes that have a gateway: `gateway_nodes[i]` listens on
  /// `gateway_endpoints[i]` (host:port).
  std::vector<std::string> gateway_nodes;
  std::vector<std::string> gateway_endpoints;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_map& x) {
  return f(caf::meta::type_name("partition_map"), x.owners, x.gateway_nodes,
           x.gateway_endpoints);
}

inline bool operator==(const partition_map& x, const partition_map& y) {
  return x.owners == y.owners && x.gateway_nodes == y.gateway_nodes
         && x.gateway_endpoints == y.gateway_endpoints;
}

/// Whoever routes requests by partition: `(owners, partition_map)`.
using map_listener =
  caf::typed_actor<caf::reacts_to<atoms::owners, partition_map>>;

/// Some partitions, by number (0 to 255): those whose open decisions a
/// takeover loads.
struct partition_set {
  std::vector<int> partitions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, partition_set& x) {
  return f(caf::meta::type_name("partition_set"), x.partitions);
}

/// Whoever wants to know what its node holds: `(partitions,
/// held_partitions)` after every membership scan that changed it.
using partition_listener =
  caf::typed_actor<caf::reacts_to<atoms::partitions, held_partitions>>;

// -- reads --------------------------------------------------------------------

/// One decision, by its id.
struct decision_ref {
  std::string decision_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_ref& x) {
  return f(caf::meta::type_name("decision_ref"), x.decision_id);
}

/// The newest decision of one patch.
struct patch_ref {
  std::string patch_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, patch_ref& x) {
  return f(caf::meta::type_name("patch_ref"), x.patch_id);
}

/// An API token, by the hash of its secret.
struct token_lookup {
  std::string token_hash;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_lookup& x) {
  return f(caf::meta::type_name("token_lookup"), x.token_hash);
}

/// Tokens that were used since the last such message (last_used_at).
struct token_uses {
  std::vector<int64_t> token_ids;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, token_uses& x) {
  return f(caf::meta::type_name("token_uses"), x.token_ids);
}

/// A time window for analytics.
struct summary_request {
  std::optional<timestamp> since;
  std::optional<timestamp> until;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, summary_request& x) {
  return f(caf::meta::type_name("summary_request"), optional_field(x.since),
           optional_field(x.until));
}

/// A decision with what the detail view shows besides the record.
struct decision_view {
  decision_record record;
  std::vector<hitl::comment> comments;
  /// The decision's audit entries as a JSON array, ready to embed.
  std::string audit_trail_json = "[]";
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, decision_view& x) {
  return f(caf::meta::type_name("decision_view"), x.record, x.comments,
           x.audit_trail_json);
}

/// An audit export for the db_reader to stream (GET /hitl/audit/export):
/// `sink` gets the export a chunk at a time, on the reader's thread, and
/// throws export_aborted when the client is gone. Local: the sink writes to
/// a connection of this process.
struct export_request {
  export_range range;
  export_format format = export_format::jsonl;
  std::function<void(std::string_view)> sink;
};

/// What a sink throws to stop an export: no failure of the reader.
class export_aborted : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

} // namespace hitl

// Local messages. Without an inspect overload CAF 0.17 serializes them as
// nothing at all: they must never be sent to another node.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hitl::export_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(hitl::committed_events)
