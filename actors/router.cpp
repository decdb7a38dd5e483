#include "actors/router.hpp"

#include "actors/atoms.hpp"
#include "actors/guarded_actor.hpp"
#include "actors/request_timeouts.hpp"
#include "actors/service_error.hpp"
#include "policy/decision_id.hpp"
#include "policy/lifecycle.hpp"
#include "policy/partition.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <random>
#include <unordered_map>
#include <unordered_set>

namespace hitl {

namespace {

/// A node that does not answer a forwarded request within this time is
/// taken as gone: longer than the owner's own commit timeout, so that an
/// owner that answers at all answers first.
constexpr auto forward_timeout = commit_timeout + std::chrono::seconds(2);
/// Between two tries of a request whose partition has no reachable owner.
constexpr auto retry_pause = std::chrono::milliseconds(250);
/// A connection attempt to another node's gateway.
constexpr auto connect_timeout = std::chrono::seconds(3);

using retry_atom = caf::atom_constant<caf::atom("retry")>;

struct router_state {
  router_options opts;
  /// By partition: its owner's node id, empty while it has none.
  std::vector<std::string> owners;
  std::unordered_map<std::string, std::string> endpoints; // node -> host:port
  std::unordered_map<std::string, decision_service> gateways; // connected
  std::unordered_set<std::string> connecting;
  std::unordered_set<std::string> unreachable; // warned of
  /// Retries waiting for their pause to end, by token.
  std::unordered_map<uint64_t, std::function<void()>> waiting;
  /// Requests sent to another node and not answered yet, by node and
  /// token: failed at once when that node's connection drops (CAF would
  /// let each run into its timeout).
  std::unordered_map<std::string,
                     std::unordered_map<uint64_t, std::function<void()>>>
    in_flight;
  uint64_t next_token = 0;
  std::mt19937_64 rng{std::random_device{}()};
  static inline const char* name = "router";
};

using router_impl = router_actor::extend<caf::reacts_to<retry_atom, uint64_t>>;
using router_self = guarded_typed<router_state, router_impl>;

using clock_type = std::chrono::steady_clock;

void later(router_self* self, std::function<void()> f) {
  auto token = ++self->state.next_token;
  self->state.waiting.emplace(token, std::move(f));
  self->delayed_send(self, retry_pause, retry_atom::value, token);
}

void forget_gateway(router_self* self, const caf::actor_addr& source) {
  auto& st = self->state;
  for (auto it = st.gateways.begin(); it != st.gateways.end(); ++it)
    if (it->second.address() == source) {
      auto node = it->first;
      spdlog::warn("router: lost the connection to node {}", node);
      st.gateways.erase(it);
      auto pending = std::move(st.in_flight[node]);
      st.in_flight.erase(node);
      for (auto& [token, fail] : pending)
        fail();
      return;
    }
}

// Connects to `node`'s gateway without blocking: CAF's middleman actor
// does the connecting.
void connect(router_self* self, const std::string& node) {
  auto& st = self->state;
  auto ep = st.endpoints.find(node);
  if (ep == st.endpoints.end() || st.connecting.count(node) > 0)
    return;
  auto colon = ep->second.rfind(':');
  if (colon == std::string::npos)
    return;
  auto host = ep->second.substr(0, colon);
  uint16_t port = 0;
  try {
    port = static_cast<uint16_t>(std::stoi(ep->second.substr(colon + 1)));
  } catch (const std::exception&) {
    return;
  }
  st.connecting.insert(node);
  auto mm = self->home_system().middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom::value, host, port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>& interface) {
        auto& st = self->state;
        st.connecting.erase(node);
        if (!ptr
            || !self->home_system().assignable<decision_service>(interface)) {
          spdlog::warn("router: node {} at {} has no gateway of this "
                       "version",
                       node, st.endpoints[node]);
          return;
        }
        auto gw = caf::actor_cast<decision_service>(std::move(ptr));
        self->monitor(gw);
        st.gateways[node] = gw;
        st.unreachable.erase(node);
        spdlog::info("router: connected to node {}", node);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.connecting.erase(node);
        // Said once until it is reached: it is tried every retry pause.
        if (st.unreachable.insert(node).second)
          spdlog::warn("router: cannot reach node {} ({}); trying again",
                       node, self->home_system().render(err));
      });
}

/// Where a request for partition `p` goes: this node's supervisor, or
/// another node's gateway; nothing while that one is not connected.
std::optional<decision_service> target(router_self* self, int p) {
  auto& st = self->state;
  const std::string none;
  const auto& owner =
    st.owners.empty() ? none : st.owners[static_cast<size_t>(p)];
  if (owner.empty() || owner == st.opts.node_id)
    return st.opts.local;
  if (auto it = st.gateways.find(owner); it != st.gateways.end())
    return it->second;
  if (st.endpoints.count(owner) == 0)
    return st.opts.local; // a node without a gateway: nothing to forward to
  connect(self, owner);
  return std::nullopt;
}

bool is_service_error(const caf::error& err) {
  return err.category() == caf::atom("hitl");
}

/// Sends `xs` for partition `p` to where it belongs, retrying until
/// `deadline` while it has no reachable owner or its owner says `moved`;
/// each try waits up to `timeout` for its answer. `may_repeat`: a request
/// that may be sent again after a node took it and did not answer (reads,
/// idempotent creations); never a verdict.
template <class Reply, class... Ts>
void forward(router_self* self, caf::typed_response_promise<Reply> rp, int p,
             clock_type::time_point deadline, caf::timespan timeout,
             bool may_repeat, const Ts&... xs) {
  auto again = [=]() mutable {
    if (clock_type::now() + retry_pause >= deadline) {
      rp.deliver(make_service_error(
        service_errc::unavailable,
        "partition " + std::to_string(p)
          + " has no owner that answers yet; retry"));
      return;
    }
    later(self, [=] {
      forward(self, rp, p, deadline, timeout, may_repeat, xs...);
    });
  };
  auto to = target(self, p);
  if (!to) {
    again();
    return;
  }
  auto& st = self->state;
  bool local = *to == st.opts.local;
  // Answered once: by the node, or by the loss of its connection.
  auto done = std::make_shared<bool>(false);
  auto token = ++st.next_token;
  std::string node = local ? std::string{} : st.owners[static_cast<size_t>(p)];
  auto settle = [=] {
    if (*done)
      return false;
    *done = true;
    if (!node.empty()) {
      auto it = self->state.in_flight.find(node);
      if (it != self->state.in_flight.end())
        it->second.erase(token);
    }
    return true;
  };
  auto no_answer = [=](const std::string& why) mutable {
    if (!may_repeat) {
      // The node may have applied it: saying so beats doing it twice.
      rp.deliver(make_service_error(
        service_errc::unavailable,
        "the node that holds partition " + std::to_string(p)
          + " did not answer (" + why
          + "); whether the request took effect is unknown: read the "
            "decision before repeating it"));
      return;
    }
    again();
  };
  if (!node.empty())
    st.in_flight[node][token] = [=]() mutable {
      if (settle())
        no_answer("its connection was lost");
    };
  self->request(*to, timeout, xs...)
    .then(
      [=](Reply& r) mutable {
        if (settle())
          rp.deliver(std::move(r));
      },
      [=](caf::error& err) mutable {
        if (!settle())
          return;
        if (is_service_error(err)) {
          if (service_code(err) == service_errc::moved)
            again();
          else
            rp.deliver(std::move(err));
          return;
        }
        if (local) {
          rp.deliver(std::move(err));
          return;
        }
        no_answer(self->home_system().render(err));
      });
}

template <class Reply, class... Ts>
caf::typed_response_promise<Reply>
route(router_self* self, const std::string& patch_id, bool may_repeat,
      const Ts&... xs) {
  auto rp = self->make_response_promise<Reply>();
  forward<Reply>(self, rp, partition_of(patch_id).value,
                 clock_type::now() + self->state.opts.retry_for,
                 forward_timeout, may_repeat, xs...);
  return rp;
}

void set_map(router_self* self, partition_map& map) {
  auto& st = self->state;
  st.owners = std::move(map.owners);
  st.endpoints.clear();
  for (size_t i = 0;
       i < map.gateway_nodes.size() && i < map.gateway_endpoints.size(); ++i)
    if (map.gateway_nodes[i] != st.opts.node_id)
      st.endpoints[map.gateway_nodes[i]] = map.gateway_endpoints[i];
  // Connect ahead of the first request to each owner.
  std::unordered_set<std::string> owners(st.owners.begin(), st.owners.end());
  for (const auto& node : owners)
    if (!node.empty() && node != st.opts.node_id
        && st.gateways.count(node) == 0)
      connect(self, node);
}

router_impl::behavior_type router(router_self* self, router_options opts) {
  guard(self, opts.failures, "router");
  self->state.opts = std::move(opts);
  self->set_down_handler(
    [=](caf::down_msg& dm) { forget_gateway(self, dm.source); });
  return {
    [=](atoms::create a, create_request& req) {
      // Named here, so that a creation sent again after a node did not
      // answer is the same creation.
      if (!req.content.decision_id)
        req.content.decision_id =
          new_decision_id(self->state.rng, hitl::now());
      auto patch = req.content.patch_id;
      return route<create_result>(self, patch, true, a, req);
    },
    [=](atoms::approve a, const verdict_request& v) {
      return route<decision_record>(self, v.patch_id, false, a, v);
    },
    [=](atoms::reject a, const verdict_request& v) {
      return route<decision_record>(self, v.patch_id, false, a, v);
    },
    [=](atoms::cancel a, const verdict_request& v) {
      return route<decision_record>(self, v.patch_id, false, a, v);
    },
    [=](atoms::comment a, const verdict_request& v) {
      return route<comment>(self, v.patch_id, false, a, v);
    },
    [=](atoms::stats a) { return self->delegate(self->state.opts.local, a); },
    [=](atoms::ping a) { return self->delegate(self->state.opts.local, a); },
    [=](atoms::owners, partition_map& map) { set_map(self, map); },
    [=](retry_atom, uint64_t token) {
      auto& waiting = self->state.waiting;
      auto it = waiting.find(token);
      if (it == waiting.end())
        return;
      auto f = std::move(it->second);
      waiting.erase(it);
      f();
    },
  };
}

decision_service::behavior_type gateway(decision_service::pointer self,
                                        decision_service local) {
  return {
    [=](atoms::create a, const create_request& r) {
      return self->delegate(local, a, r);
    },
    [=](atoms::approve a, const verdict_request& v) {
      return self->delegate(local, a, v);
    },
    [=](atoms::reject a, const verdict_request& v) {
      return self->delegate(local, a, v);
    },
    [=](atoms::cancel a, const verdict_request& v) {
      return self->delegate(local, a, v);
    },
    [=](atoms::comment a, const verdict_request& v) {
      return self->delegate(local, a, v);
    },
    [=](atoms::stats a) { return self->delegate(local, a); },
    [=](atoms::ping a) { return self->delegate(local, a); },
  };
}

} // namespace

router_actor spawn_router(caf::actor_system& sys, router_options opts) {
  return sys.spawn(router, std::move(opts));
}

decision_service spawn_gateway(caf::actor_system& sys,
                               decision_service local) {
  return sys.spawn(gateway, std::move(local));
}

} // namespace hitl
