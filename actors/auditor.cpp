#include "actors/auditor.hpp"

#include "actors/atoms.hpp"
#include "actors/change_clock.hpp"
#include "actors/commit_pacing.hpp"
#include "actors/crypto_thread_state.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"
#include "actors/service_error.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/batch_writes.hpp"
#include "persistence/cluster_repository.hpp"
#include "persistence/comment_repository.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/db_error.hpp"
#include "persistence/pipelined_writer.hpp"
#include "persistence/token_trail.hpp"
#include "policy/audit_chain.hpp"
#include "policy/decision_json.hpp"
#include "policy/partition.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <utility>

namespace hitl {

namespace {

/// A requester's promise that is answered `internal` if it is dropped
/// unanswered: an exception that unwinds the auditor in the middle of a
/// batch destroys the batch, and each of its requesters hears of it at once
/// instead of waiting for its timeout.
class commit_promise {
public:
  explicit commit_promise(caf::response_promise p) : p_(std::move(p)) {
  }
  commit_promise(commit_promise&& other) noexcept
    : p_(std::exchange(other.p_, caf::response_promise{})) {
  }
  commit_promise& operator=(commit_promise&& other) noexcept {
    if (this != &other) {
      answer_dropped();
      p_ = std::exchange(other.p_, caf::response_promise{});
    }
    return *this;
  }
  ~commit_promise() {
    answer_dropped();
  }

  template <class T>
  void deliver(T&& x) {
    p_.deliver(std::forward<T>(x));
  }

private:
  void answer_dropped() noexcept {
    if (!p_.pending())
      return;
    try {
      p_.deliver(make_service_error(
        service_errc::internal, "the auditor failed; see the server log"));
    } catch (...) {
      // Out of memory: the requester's timeout answers it.
    }
  }

  caf::response_promise p_;
};

struct pending_commit {
  commit_request request;
  commit_promise promise;
  /// The partition of the change's patch (SPEC §8).
  partition_id partition;
};

/// The outcome of one change inside a batch.
struct applied {
  std::optional<commit_receipt> receipt;
  caf::error error;
};

/// A batch sent through the pipelined writer, not yet answered.
struct in_flight {
  std::vector<pending_commit> batch;
  std::vector<applied> results;
  int64_t entries = 0;
  std::chrono::steady_clock::time_point sent;
};

struct auditor_state {
  connection_pool* pool = nullptr;
  auditor_options opts;
  std::vector<pending_commit> queue;
  bool flush_scheduled = false;
  /// partition -> its chain's head after the last batch sealed, and the
  /// epoch its row had when read. A partition missing is read before a
  /// batch is sealed after it: all are after a failure, and a partition
  /// whose lease changed (its head may have moved under another owner).
  std::unordered_map<int, partition_chain> chains;
  auditor_stats stats;
  prometheus::Counter* entries_total = nullptr;
  prometheus::Counter* commits_total = nullptr;
  prometheus::Histogram* batch_size = nullptr;
  prometheus::Histogram* commit_seconds = nullptr;
  /// Slow commits since the last warning about them, and when that was.
  size_t slow_commits = 0;
  std::chrono::steady_clock::time_point slow_warned;
  std::vector<event_listener> listeners;
  /// Connected on first use; dropped after the connection failed.
  std::unique_ptr<pipelined_writer> pipe;
  /// Sent and not yet answered, oldest first; at most two.
  std::deque<in_flight> flight;
  commit_pacing pacing;
  /// The node whose partitions fence every batch, from the membership's
  /// first word on; none: not a cluster member (tests, tools).
  std::optional<std::string> fence_node;
  /// partition -> the epoch it is held at.
  std::unordered_map<int, int64_t> leases;
  prometheus::Counter* fenced_total = nullptr;
  prometheus::Counter* resealed_total = nullptr;
  static inline const char* name = "auditor";
};

// Its own wake-up to commit what is queued: no part of what others see.
using auditor_impl = auditor_actor::extend<caf::reacts_to<atoms::flush>>;

using auditor_self = guarded_typed<auditor_state, auditor_impl>;

// The rows of `batch`, each change's receipt prepared: new decisions get
// version 1, updates keep their expected version until written. Comments are
// inserted at once (the receipt needs their id), so only `commit_in_steps`
// may see them.
void collect_rows(const auditor_state& st, pqxx::transaction_base* txn,
                  const std::vector<pending_commit>& batch,
                  std::vector<applied>& results, batch_rows& rows) {
  results.assign(batch.size(), applied{});
  rows.fence_node = st.fence_node;
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& req = batch[i].request;
    auto& receipt = results[i].receipt.emplace();
    receipt.record = req.change.after;
    if (req.change.new_comment) {
      receipt.comment = *req.change.new_comment;
      receipt.comment->id = insert_comment(*txn, *req.change.new_comment);
    } else if (req.expected_version == 0) {
      rows.inserts.push_back(&req.change.after);
      receipt.record.version = 1;
    } else {
      rows.updates.push_back({&req.change.after, req.expected_version});
    }
  }
}

// Reads the chains of the batch's partitions that are not known, in `txn`
// or a transaction of its own. The known ones stay: with batches in flight
// they are ahead of the database.
void know_chains(auditor_state& st, const std::vector<pending_commit>& batch,
                 pqxx::transaction_base* txn) {
  bool unknown = std::any_of(batch.begin(), batch.end(), [&](const auto& p) {
    return st.chains.count(p.partition.value) == 0;
  });
  if (!unknown)
    return;
  auto read = [&](pqxx::transaction_base& t) {
    for (auto& c : read_partition_chains(t))
      st.chains.try_emplace(c.partition.value, std::move(c));
  };
  if (txn)
    read(*txn);
  else
    st.pool->read_once(read);
}

// The epoch a partition's entries are written under: a member's lease
// (none: -1, which no partition has, so that the database refuses the batch
// and handle_fenced answers it), else the epoch its row had.
int64_t write_epoch(const auditor_state& st, const partition_chain& chain) {
  if (!st.fence_node)
    return chain.epoch;
  auto held = st.leases.find(chain.partition.value);
  return held != st.leases.end() ? held->second : int64_t{-1};
}

// Seals the audit entries of the batch's changes after their partitions'
// heads (know_chains read them), in batch order, with their approvals and
// outbox rows, and names every partition written with its heads before and
// after. `version_of` gives an update's version once written; one it says
// was not written (std::nullopt) gets a conflict instead of its receipt,
// and nothing in the chain.
template <class VersionOf>
void seal_rows(auditor_self* self, const std::vector<pending_commit>& batch,
               std::vector<applied>& results, batch_rows& rows,
               VersionOf version_of) {
  auto& st = self->state;
  auto at = st.opts.clock();
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& req = batch[i].request;
    const auto& ch = req.change;
    auto& receipt = *results[i].receipt;
    auto& chain = st.chains.at(batch[i].partition.value);
    auto epoch = write_epoch(st, chain);
    bool named = std::any_of(rows.chains.begin(), rows.chains.end(),
                             [&](const chain_advance& c) {
                               return c.partition == chain.partition;
                             });
    if (!named)
      rows.chains.push_back({chain.partition, epoch, chain.head, {}});
    if (!ch.new_comment && req.expected_version != 0) {
      std::optional<int64_t> version = version_of(req);
      if (!version) {
        results[i].receipt.reset();
        results[i].error = make_service_error(
          service_errc::conflict, "the decision changed meanwhile");
        continue;
      }
      receipt.record.version = *version;
      if (ch.new_approval)
        rows.approvals.push_back({&ch.after.decision_id, &*ch.new_approval});
    }
    for (const auto& note : ch.notes) {
      audit_entry e;
      e.decision_id = ch.after.decision_id;
      e.action = note.action;
      e.performed_by = note.performed_by.value_or(req.caller.name);
      e.at = at;
      e.details_json = note.details_json;
      e.ip_address = req.caller.ip_address;
      e.user_agent = req.caller.user_agent;
      e.link = chain_link{chain.partition, 0, epoch};
      seal_next(chain.head, e);
      rows.entries.push_back(std::move(e));
    }
    for (const auto& event : ch.events)
      for (const auto& hook : st.opts.webhooks)
        if (hook.wants(event))
          rows.outbox.push_back(
            {event, ch.after.decision_id, hook.url,
             event_payload(event, receipt.record, receipt.comment, at,
                           st.opts.public_url)});
    receipt.last_pseq = chain.head.seq;
    receipt.record.audit_pseq = chain.head.seq;
    if (receipt.comment)
      receipt.comment->audit_pseq = chain.head.seq;
  }
  for (auto& c : rows.chains)
    c.after = st.chains.at(c.partition.value).head;
}

// Puts the heads of the batch's partitions back where they were before it
// was sealed: it wrote nothing.
void unseal(auditor_state& st, const batch_rows& rows) {
  for (const auto& c : rows.chains)
    st.chains.at(c.partition.value).head = c.before;
}

// A batch's time from sending to PostgreSQL's answer, its commit included.
// Every request of the batch waited that long, so a slow one is worth a
// warning; at most one every ten seconds, with the count since the last.
void time_commit(auditor_state& st, std::chrono::steady_clock::duration took,
                 size_t changes) {
  namespace chrono = std::chrono;
  constexpr auto slow = chrono::milliseconds(100);
  if (st.commit_seconds)
    st.commit_seconds->Observe(chrono::duration<double>(took).count());
  if (took < slow)
    return;
  ++st.slow_commits;
  auto now = chrono::steady_clock::now();
  if (now - st.slow_warned < chrono::seconds(10))
    return;
  spdlog::warn("auditor: {} batch(es) took over {} ms to commit since the "
               "last warning; the last, of {} change(s), took {} ms",
               st.slow_commits, slow.count(), changes,
               chrono::duration_cast<chrono::milliseconds>(took).count());
  st.slow_commits = 0;
  st.slow_warned = now;
}

// A batch sealed again: another writer appended to one of its chains first
// (a token's entry, a node that held the partition before), or the batch
// ahead of it in the pipeline was refused.
void count_reseal(auditor_state& st) {
  st.stats.resealed_batches += 1;
  if (st.resealed_total)
    st.resealed_total->Increment();
}

void count_commit(auditor_state& st, int64_t entries, size_t changes) {
  st.stats.transactions += 1;
  st.stats.entries += entries;
  if (st.commits_total) {
    st.commits_total->Increment();
    st.entries_total->Increment(static_cast<double>(entries));
    st.batch_size->Observe(static_cast<double>(changes));
  }
}

// The batch as one statement in autocommit: one round trip, which matters
// when every round trip waits for a busy core. The entries are sealed as if
// every update finds its expected version; when one does not, the statement
// writes nothing and std::nullopt says to use commit_in_steps. Throws
// db_error.
std::optional<std::vector<applied>>
commit_at_once(auditor_self* self, const std::vector<pending_commit>& batch) {
  auto& st = self->state;
  know_chains(st, batch, nullptr);
  std::vector<applied> results;
  batch_rows rows;
  collect_rows(st, nullptr, batch, results, rows);
  // The version trigger makes it one more than the one the guard expects.
  seal_rows(self, batch, results, rows, [](const commit_request& req) {
    return std::optional<int64_t>{req.expected_version + 1};
  });
  std::optional<std::unordered_map<std::string, int64_t>> written;
  st.pool->write_once(
    [&](pqxx::transaction_base& txn) { written = write_batch(txn, rows); });
  if (!written) {
    unseal(st, rows);
    return std::nullopt;
  }
  for (size_t i = 0; i < batch.size(); ++i)
    if (batch[i].request.expected_version != 0)
      results[i].receipt->record.version =
        written->at(batch[i].request.change.after.decision_id);
  count_commit(st, static_cast<int64_t>(rows.entries.size()), batch.size());
  return results;
}

// One transaction for all of `batch`, in steps: comments, then the updates
// guarded by the expected version, then in one statement the new rows and,
// for the changes that were written, their audit entries sealed in batch
// order, approvals and outbox rows. Throws db_error; on success returns one
// outcome per change, in order.
std::vector<applied> commit_in_steps(auditor_self* self,
                                     const std::vector<pending_commit>& batch) {
  auto& st = self->state;
  std::vector<applied> results;
  int64_t entries = 0;
  auto known = st.chains;
  st.pool->transact([&](pqxx::transaction_base& txn) {
    // Runs again from the top if the connection broke before COMMIT.
    st.chains = known;
    know_chains(st, batch, &txn);
    batch_rows rows;
    collect_rows(st, &txn, batch, results, rows);
    auto written = update_decisions(txn, rows.updates);
    rows.updates.clear(); // done; the rest goes in one statement
    seal_rows(self, batch, results, rows,
              [&](const commit_request& req) -> std::optional<int64_t> {
                auto it = written.find(req.change.after.decision_id);
                if (it == written.end())
                  return std::nullopt;
                return it->second;
              });
    write_batch(txn, rows);
    entries = static_cast<int64_t>(rows.entries.size());
  });
  count_commit(st, entries, batch.size());
  return results;
}

std::vector<applied> commit_batch(auditor_self* self,
                                  const std::vector<pending_commit>& batch) {
  bool comments = std::any_of(batch.begin(), batch.end(), [](const auto& p) {
    return p.request.change.new_comment.has_value();
  });
  if (!comments)
    if (auto results = commit_at_once(self, batch))
      return std::move(*results);
  return commit_in_steps(self, batch);
}

// The auditor is the usual writer of its partitions' chains, not the only
// one: `hitl token create|revoke` appends a token's entry in the
// transaction that changes its row, and a node that held a partition before
// may have appended since it was read. When one of them appended between
// reading a head and writing, the chain guard refuses the batch with
// nothing written, and it is sealed again after the new heads. The CLI
// holds the partition's row while it appends, so a retry finds it done; the
// bound only stops a livelock.
constexpr int max_reseals = 20;

std::vector<applied>
commit_resealing(auditor_self* self,
                 const std::vector<pending_commit>& batch) {
  for (int attempt = 1;; ++attempt) {
    try {
      return commit_batch(self, batch);
    } catch (const chain_moved&) {
      self->state.chains.clear();
      count_reseal(self->state);
      if (attempt >= max_reseals)
        throw;
    }
  }
}

// The batch's events, in commit order, to every listener in one message.
void publish(auditor_self* self, const std::vector<pending_commit>& batch,
             const std::vector<applied>& results) {
  if (self->state.listeners.empty())
    return;
  auto at = self->state.opts.clock();
  auto events = std::make_shared<std::vector<committed_event>>();
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& names = batch[i].request.change.events;
    const auto& receipt = results[i].receipt;
    if (!receipt || names.empty())
      continue;
    auto record = std::make_shared<const decision_record>(receipt->record);
    auto entries = static_cast<int64_t>(batch[i].request.change.notes.size());
    auto p = partition_of(record->patch_id).value;
    for (const auto& name : names)
      events->push_back({name, record, receipt->comment, at, p,
                         receipt->last_pseq - entries + 1,
                         receipt->last_pseq});
  }
  if (events->empty())
    return;
  committed_events shared = std::move(events);
  for (const auto& l : self->state.listeners)
    self->send(l, atoms::event::value, shared);
}

// Tells the read caches that what they hold of these decisions and of the
// queue may be old. Also after a failed batch: a COMMIT whose outcome is
// unknown may have landed.
void advance_clock(auditor_self* self,
                   const std::vector<pending_commit>& batch) {
  auto* clock = self->state.opts.changes.get();
  if (!clock)
    return;
  bool queue = false;
  for (const auto& item : batch) {
    const auto& req = item.request;
    // A created decision was not there to be read, so nothing of it can be
    // cached; everything else changes what a reader of it sees.
    if (req.expected_version != 0 || req.change.new_comment)
      clock->decision_changed(req.change.after.decision_id);
    queue = queue || !req.change.new_comment;
  }
  if (queue)
    clock->queue_changed();
}

void deliver(auditor_self* self, std::vector<pending_commit>& batch,
             std::vector<applied>& results) {
  advance_clock(self, batch);
  publish(self, batch, results);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results[i].receipt) {
      batch[i].promise.deliver(std::move(*results[i].receipt));
    } else {
      batch[i].promise.deliver(results[i].error);
    }
  }
}

// The first `n` changes of the queue.
std::vector<pending_commit> take_batch(auditor_state& st, size_t n) {
  std::vector<pending_commit> batch(std::make_move_iterator(st.queue.begin()),
                                    std::make_move_iterator(st.queue.begin()
                                                            + n));
  st.queue.erase(st.queue.begin(), st.queue.begin() + n);
  return batch;
}

// -- the partition fence (SPEC §8) ----------------------------------------------

caf::error not_held_error() {
  return make_service_error(service_errc::unavailable,
                            "this node does not hold the patch's partition; "
                            "try again");
}

// Changes of patches in partitions this node does not hold are refused
// before anything is sealed: another node owns them, or nobody yet.
void refuse_unheld(auditor_state& st, std::vector<pending_commit>& batch) {
  if (!st.fence_node)
    return;
  auto split = std::stable_partition(
    batch.begin(), batch.end(), [&](const pending_commit& p) {
      return st.leases.count(p.partition.value) > 0;
    });
  for (auto it = split; it != batch.end(); ++it)
    it->promise.deliver(not_held_error());
  batch.erase(split, batch.end());
}

// The leases that the database still shows as this node's, at their epochs.
void refresh_leases(auditor_state& st) {
  std::vector<partition_owner> owners;
  st.pool->read_once(
    [&](pqxx::transaction_base& txn) { owners = partition_owners(txn); });
  for (auto it = st.leases.begin(); it != st.leases.end();) {
    const auto& o = owners.at(static_cast<size_t>(it->first));
    if (o.node_id != st.fence_node || o.epoch != it->second)
      it = st.leases.erase(it);
    else
      ++it;
  }
}

// The fence refused `batch`, with nothing written: a partition it writes to
// was taken over (this node's lease had run out). The leases are read
// again; the changes in partitions still held go back to the front of the
// queue, the others are refused (503). When the reading fails or finds
// nothing lost, all are refused, so that nothing goes round for ever.
void handle_fenced(auditor_self* self, std::vector<pending_commit>& batch,
                   const partition_fenced& e) {
  auto& st = self->state;
  if (st.fenced_total)
    st.fenced_total->Increment();
  auto before = st.leases.size();
  try {
    refresh_leases(st);
  } catch (const db_error&) {
  }
  bool lost = st.leases.size() < before;
  spdlog::warn("auditor: the partition fence refused a batch of {}: {}; "
               "{} partition(s) no longer held",
               batch.size(), e.what(), before - st.leases.size());
  std::vector<pending_commit> again;
  for (auto& item : batch) {
    if (lost && st.leases.count(item.partition.value) > 0)
      again.push_back(std::move(item));
    else
      item.promise.deliver(not_held_error());
  }
  st.queue.insert(st.queue.begin(), std::make_move_iterator(again.begin()),
                  std::make_move_iterator(again.end()));
}

// Writes `batch` over the pool and waits for it: a batch with a comment, one
// that the database refused as it was sealed, or one for which the
// pipelined writer has no connection. Never while batches are in flight.
void commit_waiting(auditor_self* self, std::vector<pending_commit>& batch) {
  auto& st = self->state;
  try {
    auto started = std::chrono::steady_clock::now();
    auto results = commit_resealing(self, batch);
    time_commit(st, std::chrono::steady_clock::now() - started, batch.size());
    deliver(self, batch, results);
    return;
  } catch (const partition_fenced& e) {
    advance_clock(self, batch);
    st.chains.clear();
    st.stats.failed_batches += 1;
    handle_fenced(self, batch, e);
    return;
  } catch (const db_error& e) {
    advance_clock(self, batch);
    st.chains.clear();
    st.stats.failed_batches += 1;
    bool data_conflict = service_errc_of(e.code) != service_errc::unavailable;
    if (batch.size() == 1 || !data_conflict) {
      if (!data_conflict)
        spdlog::warn("auditor: batch of {} failed: {}", batch.size(),
                     e.what());
      auto err = to_service_error(e);
      for (auto& item : batch)
        item.promise.deliver(err);
      return;
    }
  } catch (...) {
    // Not a database error: whether it came before or after the COMMIT is
    // unknown, so the batch may have landed (see recover_from_failure).
    advance_clock(self, batch);
    st.chains.clear();
    throw;
  }
  // One change refused by the database spoiled the batch: commit each alone,
  // so only that one fails.
  for (auto& item : batch) {
    std::vector<pending_commit> one;
    one.push_back(std::move(item));
    try {
      auto results = commit_resealing(self, one);
      deliver(self, one, results);
    } catch (const partition_fenced& e) {
      advance_clock(self, one);
      st.chains.clear();
      handle_fenced(self, one, e);
    } catch (const db_error& e) {
      advance_clock(self, one);
      st.chains.clear();
      one[0].promise.deliver(to_service_error(e));
    } catch (...) {
      advance_clock(self, one);
      st.chains.clear();
      throw;
    }
  }
}

// -- pipelined batches ----------------------------------------------------------

constexpr size_t max_in_flight = 2;
// How long the auditor waits for an answer while it could send more: short,
// so that commits arriving meanwhile join the next batch.
constexpr auto answer_poll = std::chrono::microseconds(200);
// Past this, a batch's answer is given up and its outcome is in doubt.
constexpr auto answer_limit = std::chrono::seconds(30);

// The connection is lost: every batch in flight may or may not have
// committed. Their requesters hear so (503); the chain head is read again.
void abandon_in_flight(auditor_self* self, const db_error& e) {
  auto& st = self->state;
  spdlog::warn("auditor: {} batch(es) in doubt: {}", st.flight.size(),
               e.what());
  auto err = to_service_error(db_error(db_errc::in_doubt, e.what()));
  for (auto& f : st.flight) {
    advance_clock(self, f.batch);
    st.stats.failed_batches += 1;
    for (auto& item : f.batch)
      item.promise.deliver(err);
  }
  st.flight.clear();
  st.pipe.reset();
  st.chains.clear();
}

// Seals `batch` after the head and sends it. False, with nothing sent, when
// there is no connection or no head to seal after: the caller then writes
// it the waiting way, which reports what is wrong.
bool send_batch(auditor_self* self, std::vector<pending_commit>& batch) {
  auto& st = self->state;
  // A connection the server closed while idle is replaced before anything
  // goes into it; with batches in flight, next() finds out and they are in
  // doubt.
  if (st.pipe && st.flight.empty() && st.pipe->closed_by_server())
    st.pipe.reset();
  try {
    if (!st.pipe)
      st.pipe = std::make_unique<pipelined_writer>(st.pool->options().url);
    know_chains(st, batch, nullptr);
  } catch (const db_error&) {
    return false;
  }
  in_flight f;
  batch_rows rows;
  collect_rows(st, nullptr, batch, f.results, rows);
  // The version trigger makes it one more than the one the guard expects.
  seal_rows(self, batch, f.results, rows, [](const commit_request& req) {
    return std::optional<int64_t>{req.expected_version + 1};
  });
  f.entries = static_cast<int64_t>(rows.entries.size());
  f.batch = std::move(batch);
  f.sent = std::chrono::steady_clock::now();
  st.flight.push_back(std::move(f));
  try {
    st.pipe->send(rows);
  } catch (const db_error& e) {
    abandon_in_flight(self, e);
    return true;
  }
  return true;
}

// A committed batch: its updates' versions into the receipts, then answers.
void finish_written(auditor_self* self, in_flight& f,
                    const pipelined_writer::written& written) {
  auto& st = self->state;
  // Committed: whatever fails below, the caches must not serve what came
  // before (deliver advances the clock again, which costs nothing).
  advance_clock(self, f.batch);
  for (size_t i = 0; i < f.batch.size(); ++i)
    if (f.batch[i].request.expected_version != 0)
      f.results[i].receipt->record.version =
        written.at(f.batch[i].request.change.after.decision_id);
  time_commit(st, std::chrono::steady_clock::now() - f.sent, f.batch.size());
  count_commit(st, f.entries, f.batch.size());
  deliver(self, f.batch, f.results);
}

// The oldest batch was refused and wrote nothing. Those behind it that
// share a partition with it were sealed after its entries there, so their
// chain guard refuses them as well; those in other partitions' chains owe it
// nothing and are written. Once all are answered, the refused batch is
// written the waiting way (which seals only what gets written), and the
// refused ones behind it go back to the front of the queue.
void recover_refused(auditor_self* self, in_flight refused_batch,
                     const pipelined_writer::refused& why) {
  auto& st = self->state;
  if (why.sqlstate != "HT409")
    spdlog::debug("auditor: batch of {} refused ({}): {}",
                  refused_batch.batch.size(), why.sqlstate, why.message);
  std::vector<pending_commit> again;
  while (!st.flight.empty()) {
    auto f = std::move(st.flight.front());
    st.flight.pop_front();
    std::optional<pipelined_writer::outcome> got;
    try {
      got = st.pipe->next(answer_limit);
    } catch (const db_error& e) {
      st.flight.push_front(std::move(f));
      abandon_in_flight(self, e);
      break;
    }
    if (!got) {
      st.flight.push_front(std::move(f));
      abandon_in_flight(self, db_error(db_errc::in_doubt, "no answer"));
      break;
    }
    if (std::holds_alternative<pipelined_writer::written>(*got)) {
      finish_written(self, f, std::get<pipelined_writer::written>(*got));
      continue;
    }
    count_reseal(st);
    for (auto& item : f.batch)
      again.push_back(std::move(item));
  }
  st.chains.clear();
  commit_waiting(self, refused_batch.batch);
  st.queue.insert(st.queue.begin(), std::make_move_iterator(again.begin()),
                  std::make_move_iterator(again.end()));
}

// Waits up to `wait` for the oldest batch's answer and acts on it.
void collect_oldest(auditor_self* self, std::chrono::microseconds wait) {
  auto& st = self->state;
  std::optional<pipelined_writer::outcome> got;
  try {
    got = st.pipe->next(wait);
  } catch (const db_error& e) {
    abandon_in_flight(self, e);
    return;
  }
  if (!got) {
    if (wait >= answer_limit)
      abandon_in_flight(self, db_error(db_errc::in_doubt, "no answer"));
    return;
  }
  auto f = std::move(st.flight.front());
  st.flight.pop_front();
  if (auto* refused = std::get_if<pipelined_writer::refused>(&*got)) {
    recover_refused(self, std::move(f), *refused);
    return;
  }
  finish_written(self, f, std::get<pipelined_writer::written>(*got));
}

void flush(auditor_self* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  size_t waiting = st.queue.size();
  for (const auto& f : st.flight)
    waiting += f.batch.size();
  st.pacing.observe(waiting, std::chrono::steady_clock::now());
  while (st.flight.size() < max_in_flight && !st.queue.empty()
         && (st.flight.empty() || st.pacing.send_beside(st.queue.size()))) {
    // A comment's receipt needs its id from an INSERT of its own: that
    // batch waits until nothing is in flight, then goes the waiting way.
    auto n = std::min(st.queue.size(), st.opts.max_batch);
    bool waits = std::any_of(st.queue.begin(), st.queue.begin() + n,
                             [](const auto& p) {
                               return p.request.change.new_comment.has_value();
                             });
    if (waits && !st.flight.empty())
      break;
    auto batch = take_batch(st, n);
    refuse_unheld(st, batch);
    if (batch.empty())
      continue;
    if (waits || !send_batch(self, batch))
      commit_waiting(self, batch);
  }
  if (!st.flight.empty()) {
    // With two in flight nothing more can be sent: wait for the answer.
    // Otherwise look briefly, then let commits that arrived meanwhile in.
    collect_oldest(self, st.flight.size() >= max_in_flight
                           ? std::chrono::microseconds(answer_limit)
                           : answer_poll);
  }
  if (!st.queue.empty() || !st.flight.empty()) {
    st.flush_scheduled = true;
    self->send(self, atoms::flush::value);
  }
}

// -- token expiries ----------------------------------------------------------

// Appends a token_expired entry for each token that expired without one,
// each alone, after the batches in flight (they were sealed after the
// head). Exactly once per token: another serve, or the CLI retiring the
// token, that appended the same expiry first makes this one a duplicate of
// the unique index of 017, and it is done. What fails otherwise waits for
// the next nudge.
void record_expiries(auditor_self* self) {
  auto& st = self->state;
  std::vector<token_info> due;
  try {
    st.pool->read_once(
      [&](pqxx::transaction_base& txn) { due = unrecorded_expiries(txn); });
  } catch (const db_error& e) {
    spdlog::warn("auditor: cannot read expired tokens: {}", e.what());
    return;
  }
  if (due.empty())
    return;
  while (!st.flight.empty())
    collect_oldest(self, answer_limit);
  for (const auto& token : due) {
    // Appended with the partition's row locked, whoever holds it; the head
    // this auditor knew of that partition is old now.
    st.chains.erase(token_partition(token.id).value);
    try {
      st.pool->transact([&](pqxx::transaction_base& txn) {
        append_token_entry(txn, token.id,
                           token_entry(audit_action::token_expired, token,
                                       expiry_performer, std::nullopt));
      });
      count_commit(st, 1, 1);
    } catch (const db_error& e) {
      if (e.code == db_errc::conflict)
        continue; // recorded by another writer meanwhile
      spdlog::warn("auditor: cannot record the expiry of token {}: {}",
                   token.id, e.what());
      return;
    }
  }
  if (!st.queue.empty() && !st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, atoms::flush::value);
  }
}

// -- after an exception ----------------------------------------------------

// An exception unwound the auditor in the middle of its work. The batch it
// was sealing, writing or answering went with it: its requesters have their
// answer (commit_promise), and where it may have committed, the caches were
// told (advance_clock). What is in flight may or may not commit, and the
// connection may be in the middle of a message: those batches are in doubt,
// as after a lost connection, and the next one goes over a new connection,
// sealed after the head as the database has it. The queue is intact.
void recover_from_failure(auditor_self* self) {
  auto& st = self->state;
  if (!st.flight.empty())
    abandon_in_flight(self,
                      db_error(db_errc::in_doubt, "the auditor failed"));
  st.pipe.reset();
  st.chains.clear();
  if (!st.queue.empty()) {
    st.flush_scheduled = true;
    self->send(self, atoms::flush::value);
  }
}

// For /health, without writing: the auditor answers, so it takes commits,
// and its writer's connection is usable, open and not closed by the server,
// or opened now (it would be for the next batch anyway).
bool write_path_ready(auditor_self* self) {
  auto& st = self->state;
  if (st.pipe && !st.pipe->closed_by_server())
    return true;
  if (!st.flight.empty())
    return false; // lost under batches in flight; flush answers them
  st.pipe.reset();
  try {
    st.pipe = std::make_unique<pipelined_writer>(st.pool->options().url);
    return true;
  } catch (const db_error&) {
    return false;
  }
}

auditor_impl::behavior_type auditor(auditor_self* self, connection_pool* pool,
                                    auditor_options opts) {
  auto& st = self->state;
  st.pool = pool;
  st.opts = std::move(opts);
  guard(self, st.opts.failures, "auditor",
        [](auditor_self* self, const caf::error&) {
          recover_from_failure(self);
        });
  if (st.opts.registry) {
    auto& reg = *st.opts.registry;
    st.entries_total = &prometheus::BuildCounter()
                          .Name("hitl_audit_entries_total")
                          .Help("Audit entries committed")
                          .Register(reg)
                          .Add({});
    st.commits_total = &prometheus::BuildCounter()
                          .Name("hitl_audit_commits_total")
                          .Help("Transactions of the auditor (group commits)")
                          .Register(reg)
                          .Add({});
    st.batch_size = &prometheus::BuildHistogram()
                       .Name("hitl_audit_batch_size")
                       .Help("Changes per auditor transaction")
                       .Register(reg)
                       .Add({}, prometheus::Histogram::BucketBoundaries{
                                  1, 2, 4, 8, 16, 32, 64, 128, 256});
    st.fenced_total =
      &prometheus::BuildCounter()
         .Name("hitl_fenced_writes_total")
         .Help("Auditor batches the partition fence refused: this node no "
               "longer held a partition it wrote to (SPEC §8)")
         .Register(reg)
         .Add({});
    st.resealed_total =
      &prometheus::BuildCounter()
         .Name("hitl_audit_resealed_batches_total")
         .Help("Auditor batches sealed again because a chain they append to "
               "moved first (another writer) or the batch ahead was refused")
         .Register(reg)
         .Add({});
    st.commit_seconds =
      &prometheus::BuildHistogram()
         .Name("hitl_audit_commit_seconds")
         .Help("Time from sending an auditor batch to PostgreSQL's answer, "
               "commit included")
         .Register(reg)
         .Add({}, prometheus::Histogram::BucketBoundaries{
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                    0.25, 0.5, 1, 2.5});
  }
  // Everyone waiting on a commit hears back before the auditor goes: the
  // queue is written and each batch in flight answered as PostgreSQL decides
  // it (bounded by answer_limit). A patch actor left waiting would not stop
  // before its request's timeout (five minutes for an escalation), and
  // ~actor_system waits for every actor.
  self->set_exit_handler([=](caf::exit_msg& em) {
    auto& st = self->state;
    while (!st.queue.empty() || !st.flight.empty()) {
      if (st.flight.empty())
        flush(self);
      else
        collect_oldest(self, answer_limit);
    }
    self->quit(em.reason);
  });
  return {
    [=](atoms::commit, commit_request& req) -> caf::result<commit_receipt> {
      auto& st = self->state;
      auto promise = self->make_response_promise();
      auto partition = partition_of(req.change.after.patch_id);
      st.queue.push_back({std::move(req), commit_promise{promise}, partition});
      // Everything that arrives before this flush is processed joins the
      // same transaction: that is the group commit.
      if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->send(self, atoms::flush::value);
      }
      return caf::delegated<commit_receipt>{};
    },
    [=](atoms::flush) { flush(self); },
    [=](atoms::expire) { record_expiries(self); },
    [=](atoms::subscribe, event_listener& listener) {
      self->state.listeners.push_back(std::move(listener));
    },
    [=](atoms::stats) { return self->state.stats; },
    [=](atoms::ping) { return write_path_ready(self); },
    [=](atoms::partitions, held_partitions& held) {
      auto& st = self->state;
      st.fence_node = std::move(held.node_id);
      auto before = std::move(st.leases);
      st.leases.clear();
      for (size_t i = 0; i < held.partitions.size() && i < held.epochs.size();
           ++i)
        st.leases[held.partitions[i]] = held.epochs[i];
      // A partition taken (again) may have moved on under another owner.
      for (const auto& [p, epoch] : st.leases) {
        auto was = before.find(p);
        if (was == before.end() || was->second != epoch)
          st.chains.erase(p);
      }
    },
  };
}

} // namespace

auditor_actor spawn_auditor(caf::actor_system& sys, connection_pool& pool,
                            auditor_options opts) {
  auto a = opts.detached
             ? sys.spawn<caf::detached>(auditor, &pool, std::move(opts))
             : sys.spawn(auditor, &pool, std::move(opts));
  release_crypto_state_at_exit(caf::actor_cast<caf::actor>(a));
  return a;
}

} // namespace hitl
