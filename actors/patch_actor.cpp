#include "actors/patch_actor.hpp"

#include "actors/atoms.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"
#include "actors/request_timeouts.hpp"
#include "actors/service_error.hpp"
#include "policy/escalation_schedule.hpp"
#include "policy/lifecycle.hpp"

#include <caf/all.hpp>

namespace hitl {

namespace {

/// Nobody waits on an escalation, and when many deadlines fall together
/// their commits queue at the auditor for longer than a person's would: a
/// timeout here would only retry what is still queued, and then conflict.
constexpr auto escalation_commit_timeout = std::chrono::minutes(5);

struct patch_state {
  decision_record rec;
  auditor_actor auditor;
  patch_owner supervisor;
  std::shared_ptr<const policy_config> policy;
  wall_clock clock;
  static inline const char* name = "patch_actor";
};

using patch_self = guarded_typed<patch_state, patch_actor>;

caf::error refusal(const decision_record& rec, verdict_error e) {
  switch (e) {
    case verdict_error::not_open:
      return make_service_error(service_errc::conflict,
                                "decision " + rec.decision_id + " is already "
                                  + std::string{to_string(rec.status)});
    case verdict_error::self_approval:
      return make_service_error(service_errc::self_approval,
                                "the creator of a decision cannot approve it");
    case verdict_error::already_approved_by_reviewer:
      return make_service_error(service_errc::conflict,
                                "you have already approved this decision; "
                                "another reviewer must approve it");
    case verdict_error::reason_required:
      return make_service_error(service_errc::invalid,
                                "a rejection needs a reason");
  }
  return make_service_error(service_errc::internal, "unknown refusal");
}

patch_actor::behavior_type final_behavior(patch_self* self) {
  auto closed = [self]() -> caf::result<decision_record> {
    return refusal(self->state.rec, verdict_error::not_open);
  };
  return {
    [=](atoms::approve, const verdict_request&) { return closed(); },
    [=](atoms::reject, const verdict_request&) { return closed(); },
    [=](atoms::cancel, const verdict_request&) { return closed(); },
    [=](atoms::comment, const verdict_request&) -> caf::result<comment> {
      // Only between its `finished` and the supervisor's `stop`: answered
      // as the unmatched message it was before the actor was typed.
      return caf::sec::unexpected_message;
    },
    [=](atoms::escalate, const escalation&) {},
    [=](atoms::get) { return self->state.rec; },
    [=](atoms::stop) { self->quit(); },
  };
}

void arm_timer(patch_self* self) {
  const auto& r = self->state.rec;
  if (!is_open(r.status) || !r.sla_deadline)
    return;
  auto next = next_escalation(*self->state.policy, r.priority, *r.sla_deadline,
                              r.escalation_level);
  if (!next)
    return;
  auto delay = std::max(duration::zero(), *next - self->state.clock());
  if (delay < std::chrono::seconds(1)) {
    // Due (recovery, a wave of deadlines) or nearly: straight to itself, so
    // that a wave of 100k does not queue at the supervisor, busy starting
    // those actors; held a second at most.
    self->delayed_send(self, delay, atoms::escalate::value,
                       escalation{r.decision_id, r.escalation_level + 1});
    return;
  }
  // A delayed message holds its receiver and its sender until it fires,
  // hours away: one from or to this actor would keep it (≈ 2 KB) in memory
  // long after its decision is final. So the timer goes, without a sender,
  // to the supervisor, which passes it on while the decision is open.
  caf::delayed_anon_send(self->state.supervisor, delay,
                         atoms::escalate::value,
                         escalation{r.decision_id, r.escalation_level + 1});
}

// Commits `ch` and, only after the commit, answers `promise` via `reply`.
// `await` holds back every other message until the auditor answers, so each
// transition is checked against the state the previous one left.
template <class Reply>
void commit(patch_self* self, change ch, caller who, Reply reply,
            caf::response_promise promise, int escalation_level = 0) {
  auto& st = self->state;
  commit_request req{std::move(ch), std::move(who), st.rec.version};
  self
    ->request(st.auditor,
              escalation_level > 0 ? escalation_commit_timeout : commit_timeout,
              atoms::commit::value, std::move(req))
    .await(
      [=](commit_receipt& receipt) mutable {
        if (!receipt.comment)
          self->state.rec = receipt.record;
        if (promise.pending())
          reply(promise, receipt);
        if (!is_open(self->state.rec.status)) {
          self->send(self->state.supervisor, atoms::finished::value,
                     decision_ref{self->state.rec.decision_id});
          self->become(final_behavior(self));
        } else if (!receipt.comment) {
          arm_timer(self);
        }
      },
      [=](caf::error& err) mutable {
        if (promise.pending())
          promise.deliver(err);
        if (service_code(err) == service_errc::conflict) {
          // The stored row moved on without us (a commit that timed out
          // here but landed later): quit, and the supervisor rebuilds this
          // actor from the database, the judge.
          self->quit(err);
        } else if (escalation_level > 0) {
          // Nothing was committed (database down): try the level again.
          self->delayed_send(
            self, std::chrono::seconds(1), atoms::escalate::value,
            escalation{self->state.rec.decision_id, escalation_level});
        }
      });
}

void answer_record(caf::response_promise& p, const commit_receipt& r) {
  p.deliver(r.record);
}

void answer_comment(caf::response_promise& p, const commit_receipt& r) {
  p.deliver(*r.comment);
}

template <class Make>
caf::result<decision_record> verdict(patch_self* self, const caller& who,
                                     Make make) {
  outcome<change> ch = make(self->state.rec);
  if (!ch)
    return refusal(self->state.rec, ch.error());
  auto promise = self->make_response_promise();
  commit(self, ch.value(), who, answer_record, promise);
  return caf::delegated<decision_record>{};
}

patch_actor::behavior_type open_behavior(patch_self* self) {
  return {
    [=](atoms::approve, const verdict_request& v) {
      return verdict(self, v.caller, [&](const decision_record& r) {
        return approve_change(r, v.caller.name, v.comment, self->state.clock(),
                              v.caller.token_id);
      });
    },
    [=](atoms::reject, const verdict_request& v) {
      return verdict(self, v.caller, [&](const decision_record& r) {
        return reject_change(r, v.caller.name, v.reason.value_or(""),
                             v.comment, self->state.clock());
      });
    },
    [=](atoms::cancel, const verdict_request& v) {
      return verdict(self, v.caller, [&](const decision_record& r) {
        return cancel_change(r, v.caller.name, v.reason, self->state.clock());
      });
    },
    [=](atoms::comment, const verdict_request& v) -> caf::result<comment> {
      comment c{0, self->state.rec.decision_id, v.caller.name,
                v.comment.value_or(""), self->state.clock()};
      auto promise = self->make_response_promise();
      commit(self, comment_change(self->state.rec, c), v.caller,
             answer_comment, promise);
      return caf::delegated<comment>{};
    },
    [=](atoms::escalate, const escalation& e) {
      auto level = e.level;
      auto ch = escalate_change(self->state.rec, level, self->state.clock());
      if (!ch)
        return; // a late or repeated timer: the level is already recorded
      caller sla{"system:sla", role::service, std::nullopt, std::nullopt,
                 std::nullopt};
      commit(self, std::move(*ch), sla,
             [](caf::response_promise&, const commit_receipt&) {},
             caf::response_promise{}, level);
    },
    [=](atoms::get) { return self->state.rec; },
    [=](atoms::stop) { self->quit(); },
  };
}

patch_actor::behavior_type patch(patch_self* self, decision_record rec,
                                 auditor_actor auditor, patch_owner supervisor,
                                 std::shared_ptr<const policy_config> policy,
                                 actor_failures failures, wall_clock clock) {
  // After an exception its record may not be what the database holds (one
  // thrown after a commit): it quits, and the supervisor, which monitors it,
  // rebuilds it from the database, the judge. The request is answered
  // first; those queued behind it hear that it is gone (503, retry).
  guard(self, std::move(failures), "patch",
        [](patch_self* self, const caf::error& err) { self->quit(err); });
  auto& st = self->state;
  st.rec = std::move(rec);
  st.auditor = std::move(auditor);
  st.supervisor = std::move(supervisor);
  st.policy = std::move(policy);
  st.clock = std::move(clock);
  arm_timer(self);
  return open_behavior(self);
}

} // namespace

patch_actor spawn_patch_actor(caf::actor_system& sys, decision_record rec,
                              auditor_actor auditor, patch_owner supervisor,
                              std::shared_ptr<const policy_config> policy,
                              actor_failures failures, wall_clock clock) {
  return sys.spawn(patch, std::move(rec), std::move(auditor),
                   std::move(supervisor), std::move(policy),
                   std::move(failures), std::move(clock));
}

} // namespace hitl
