#include "http/edge_actors.hpp"

#include "actors/atoms.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/messages.hpp"
#include "http/event_stream.hpp"
#include "http/token_cache.hpp"
#include "policy/decision_json.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <unordered_set>

namespace hitl {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

constexpr auto ping_interval = std::chrono::seconds(20);
constexpr auto max_silence = std::chrono::seconds(60);
constexpr auto token_refresh = std::chrono::seconds(2);

// A listener of the cluster feed with a ping tick of its own, which no
// other actor sends.
using event_feed_actor = feed_listener::extend<caf::reacts_to<tick_atom>>;

event_feed_actor::behavior_type event_feed(event_feed_actor::pointer self,
                                           cluster_feed_actor feed,
                                           event_stream* stream,
                                           std::string public_url) {
  self->send(feed, atoms::subscribe::value, feed_listener{self});
  self->delayed_send(self, ping_interval, tick_atom::value);
  return {
    [=](atoms::event, const committed_events& events) {
      if (stream->clients() == 0)
        return; // nobody listens: spare the serialization
      for (const auto& ev : *events)
        stream->publish(
          event_payload(ev.name, *ev.record, ev.comment, ev.at, public_url));
    },
    [=](atoms::resync) {
      // Events may have been missed: clients read the queue again.
      stream->publish(R"({"event":"stream.resync"})");
    },
    [=](tick_atom) {
      stream->ping_and_reap(max_silence);
      self->delayed_send(self, ping_interval, tick_atom::value);
    },
  };
}

// Writes last_used_at of the tokens the cache saw used, in one statement;
// uses that cannot be recorded now are kept for the next tick.
void flush_token_uses(caf::event_based_actor* self,
                      const db_reader_actor& reader, token_cache* cache) {
  auto used = cache->take_used();
  if (used.empty())
    return;
  self->request(reader, std::chrono::seconds(5), atoms::touch::value,
                token_uses{used})
    .then([](size_t) {}, [cache, used](caf::error&) {
      cache->restore_used(used);
    });
}

// When to ask the auditor to record expiries: the earliest expiry among the
// tokens loaded last, and a tick count for the periodic ask.
struct expiry_watch {
  std::optional<timestamp> next;
  int ticks = 0;
};

constexpr int expiry_ask_ticks = 30; // a minute of token_refresh

void watch_expiries(caf::event_based_actor* self, const auditor_actor& auditor,
                    expiry_watch& w, const std::vector<token_info>& active) {
  if (!auditor)
    return;
  auto at = now();
  bool due = w.ticks == 0 || (w.next && *w.next <= at);
  w.ticks = (w.ticks + 1) % expiry_ask_ticks;
  w.next.reset();
  for (const auto& t : active)
    if (t.expires_at && (!w.next || *t.expires_at < *w.next))
      w.next = t.expires_at;
  if (due)
    self->send(auditor, atoms::expire::value);
}

caf::behavior token_refresher(caf::event_based_actor* self,
                              db_reader_actor reader,
                              token_cache* cache, event_stream* stream,
                              auditor_actor auditor) {
  auto watch = std::make_shared<expiry_watch>();
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) {
      flush_token_uses(self, reader, cache);
      auto asked = std::chrono::steady_clock::now();
      self->request(reader, std::chrono::seconds(5), atoms::tokens::value)
        .then(
          [=](std::vector<token_info>& active) {
            std::unordered_set<std::string> hashes;
            hashes.reserve(active.size());
            for (const auto& t : active) {
              cache->store(t.token_hash, t);
              hashes.insert(t.token_hash);
            }
            // The list is complete, so a token not on it was revoked or
            // has expired: it is forgotten, and its streams are closed. On
            // an error nothing is: an unreachable database says nothing
            // about tokens.
            cache->forget_all_but(hashes);
            stream->close_inactive(hashes, asked);
            watch_expiries(self, auditor, *watch, active);
            self->delayed_send(self, token_refresh, tick_atom::value);
          },
          [=](caf::error&) {
            self->delayed_send(self, token_refresh, tick_atom::value);
          });
    },
  };
}

// -- guarded: an exception is logged and counted, and the actor goes on -----

struct event_feed_state {
  static inline const char* name = "event_feed";
};

struct token_refresher_state {
  static inline const char* name = "token_refresher";
};

// Each runs on its own tick: a failure while handling the tick (or, for the
// refresher, the answer its tick asked for) arms the next one, or the actor
// would live on and do nothing.
template <class State, class Base = caf::event_based_actor>
auto rearm_tick(caf::timespan interval, bool after_answers) {
  return [=](guarded_actor<State, Base>* self, const caf::error&) {
    auto* failed = self->current_mailbox_element();
    if (failed
        && (failed->content().template match_elements<tick_atom>()
            || (after_answers && failed->mid.is_response())))
      self->delayed_send(self, interval, tick_atom::value);
  };
}

} // namespace

caf::actor spawn_event_feed(caf::actor_system& sys, cluster_feed_actor feed,
                            event_stream& stream, std::string public_url,
                            actor_failures failures) {
  using self_type = guarded_typed<event_feed_state, event_feed_actor>;
  auto* s = &stream;
  auto listener = sys.spawn(
    [=](self_type* self) -> event_feed_actor::behavior_type {
      guard(self, failures, "event_feed",
            rearm_tick<event_feed_state, event_feed_actor::base>(
              ping_interval, false));
      return event_feed(self, feed, s, public_url);
    });
  // Others only stop it: what it takes, it takes from the cluster feed.
  return caf::actor_cast<caf::actor>(listener);
}

caf::actor spawn_token_refresher(caf::actor_system& sys,
                                 db_reader_actor reader,
                                 token_cache& cache, event_stream& stream,
                                 actor_failures failures) {
  return spawn_token_refresher(sys, std::move(reader), cache, stream,
                               std::move(failures), auditor_actor{});
}

caf::actor spawn_token_refresher(caf::actor_system& sys,
                                 db_reader_actor reader,
                                 token_cache& cache, event_stream& stream,
                                 actor_failures failures,
                                 auditor_actor auditor) {
  auto* c = &cache;
  auto* s = &stream;
  return sys.spawn([=](guarded_actor<token_refresher_state>* self) {
    guard(self, failures, "token_refresher",
          rearm_tick<token_refresher_state>(token_refresh, true));
    return token_refresher(self, reader, c, s, auditor);
  });
}

} // namespace hitl
