#include "actors/actor_failures.hpp"

#include "actors/service_error.hpp"

#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <string>

namespace hitl {

namespace {

/// Every actor on the request and write path; their series exist from the
/// start, at zero, so that an alert on a rate sees them before the first
/// failure.
constexpr const char* known_actors[] = {
  "bridge",   "supervisor", "patch",      "auditor",         "reader",
  "notifier", "metrics",    "event_feed", "token_refresher", "health",
  "checkpoint",
};

/// The exception's text for the log, on one line: it may quote client bytes,
/// so control and non-ASCII bytes are escaped, and it is cut at 512.
std::string what_of(const std::exception_ptr& e) {
  std::string what;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    what = x.what();
  } catch (...) {
    return "an exception of unknown type";
  }
  constexpr size_t limit = 512;
  std::string out;
  for (unsigned char c : what) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      static constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  return out;
}

} // namespace

actor_failures::actor_failures(std::shared_ptr<prometheus::Registry> registry)
  : registry_(std::move(registry)) {
  if (!registry_)
    return;
  // Registered again by each owner of the same registry: prometheus-cpp
  // hands back the family that exists under this name.
  family_ = &prometheus::BuildCounter()
               .Name("hitl_actor_failures_total")
               .Help("Exceptions that reached an actor: answered as internal "
                     "errors, the actor kept or rebuilt")
               .Register(*registry_);
  for (auto name : known_actors)
    family_->Add({{"actor", name}});
}

caf::error actor_failures::record(const char* actor,
                                  const std::exception_ptr& e) const {
  spdlog::error("actor {} failed: {}", actor, what_of(e));
  if (family_)
    family_->Add({{"actor", actor}}).Increment();
  return make_service_error(service_errc::internal,
                            std::string{"the "} + actor
                              + " failed; see the server log");
}

} // namespace hitl
