#pragma once

// Message tags of the actor system (CAF 0.17: at most 10 characters each).

#include <caf/atom.hpp>

namespace hitl::atoms {

using ping = caf::atom_constant<caf::atom("ping")>;
using create = caf::atom_constant<caf::atom("create")>;
using approve = caf::atom_constant<caf::atom("approve")>;
using reject = caf::atom_constant<caf::atom("reject")>;
using cancel = caf::atom_constant<caf::atom("cancel")>;
using comment = caf::atom_constant<caf::atom("comment")>;
using get = caf::atom_constant<caf::atom("get")>;
using by_patch = caf::atom_constant<caf::atom("by_patch")>;
using commit = caf::atom_constant<caf::atom("commit")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using escalate = caf::atom_constant<caf::atom("escalate")>;
using finished = caf::atom_constant<caf::atom("finished")>;
using stop = caf::atom_constant<caf::atom("stop")>;
using stats = caf::atom_constant<caf::atom("stats")>;
using event = caf::atom_constant<caf::atom("event")>;
using subscribe = caf::atom_constant<caf::atom("subscribe")>;
using baseline = caf::atom_constant<caf::atom("baseline")>;
using wait = caf::atom_constant<caf::atom("wait")>;
using verify = caf::atom_constant<caf::atom("verify")>;
using audit_export = caf::atom_constant<caf::atom("audexport")>;
using pending = caf::atom_constant<caf::atom("pending")>;
using summary = caf::atom_constant<caf::atom("summary")>;
using audit = caf::atom_constant<caf::atom("audit")>;
/// Look one token up by its hash (and record its use).
using token = caf::atom_constant<caf::atom("token")>;
/// List the tokens that are neither revoked nor expired.
using tokens = caf::atom_constant<caf::atom("tokens")>;
/// Record that tokens were used (last_used_at).
using touch = caf::atom_constant<caf::atom("touch")>;
/// Append the token_expired entries not yet in the chain (the auditor).
using expire = caf::atom_constant<caf::atom("expire")>;
/// The supervisor's timer: start the dormant decisions now due.
using wake = caf::atom_constant<caf::atom("wake")>;
/// What /health shows: the write path's checks.
using health = caf::atom_constant<caf::atom("health")>;
/// The partitions this node holds (membership).
using partitions = caf::atom_constant<caf::atom("partitions")>;
/// Give up every partition and end the node's lease (graceful stop).
using leave = caf::atom_constant<caf::atom("leave")>;
/// The open decisions of some partitions (a takeover's loading).
using load_open = caf::atom_constant<caf::atom("load_open")>;
/// Who holds each partition, and where the nodes' gateways listen.
using owners = caf::atom_constant<caf::atom("owners")>;
/// Answered once the supervisor has loaded what its node holds.
using ready = caf::atom_constant<caf::atom("ready")>;
/// The cluster feed: a read of the audit entries after a position, and
/// the reset that tells its listeners to read everything again.
using feed = caf::atom_constant<caf::atom("feed")>;
using resync = caf::atom_constant<caf::atom("resync")>;
/// The open decisions of the whole system, from the database's counts.
using open_total = caf::atom_constant<caf::atom("open_total")>;

} // namespace hitl::atoms
