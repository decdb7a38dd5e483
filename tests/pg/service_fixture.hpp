#pragma once

// An in-process service node (real actors, real PostgreSQL) for tests that
// talk to the actors directly.

#include "actors/messages.hpp"
#include "actors/service.hpp"
#include "cli/service_config.hpp"
#include "persistence/connection_pool.hpp"

#include <caf/all.hpp>

#include <memory>

namespace hitl::test {

class running_service {
public:
  /// `url` is the owner's, of a migrated_database; the node connects as
  /// the runtime role.
  running_service(const std::string& url, const service_config& config);
  ~running_service();

  caf::actor_system& system() {
    return *sys_;
  }
  service_actors& actors() {
    return actors_;
  }
  connection_pool& pool() {
    return *pool_;
  }
  /// The Prometheus text exposition of the node's registry.
  std::string metrics_text() const;

  caf::expected<create_result> create(const new_decision& nd,
                                      const std::string& who = "wargaming");
  template <class Atom>
  caf::expected<decision_record> act(Atom atom, verdict_request v) {
    caf::scoped_actor self{*sys_};
    caf::expected<decision_record> out{caf::error{}};
    self->request(actors_.supervisor, std::chrono::seconds(20), atom, v)
      .receive([&](decision_record& r) { out = std::move(r); },
               [&](caf::error& e) { out = std::move(e); });
    return out;
  }
  auditor_stats auditor_stats_now();

  /// Stops the node (as a crash would, but letting in-flight commits end)
  /// and waits until all its actors are gone. Called on destruction too.
  void stop();

private:
  std::unique_ptr<connection_pool> pool_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::shared_ptr<prometheus::Registry> registry_;
  service_actors actors_;
};

/// A decision that the default policy auto-approves, or not.
new_decision sample_decision(const std::string& patch_id, urgency severity,
                             bool auto_approvable);

verdict_request verdict(const std::string& patch_id, const std::string& who,
                        role r = role::reviewer);

/// Actions of the audit trail of one decision, in seq order, with details.
struct audit_row {
  int64_t seq;
  std::string action;
  std::string performed_by;
  std::string details;
};
std::vector<audit_row> audit_of(const std::string& url,
                                const std::string& decision_id);

/// A decision's escalations in its audit trail, in seq order: the level, and
/// the time its entry carries.
struct escalation_entry {
  int level;
  timestamp at;
};
std::vector<escalation_entry> escalations_of(const std::string& url,
                                             const std::string& decision_id);

/// `n` open medium decisions, <prefix>1.. for patches p-<prefix>1.., due in
/// a day, written straight into the table as recovery at scale finds them.
void insert_open_decisions(const std::string& url, const std::string& prefix,
                           int n);

} // namespace hitl::test
