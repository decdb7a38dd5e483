#include "http/read_position.hpp"

#include "actors/cluster_feed.hpp"
#include "http/server_context.hpp"
#include "policy/audit_feed.hpp"
#include "policy/partition.hpp"

namespace hitl {

std::string write_position(const std::string& patch_id, int64_t pseq) {
  if (pseq <= 0)
    return {};
  return to_string(feed_position{partition_of(patch_id).value, pseq});
}

std::optional<bool> may_use_cache(const exchange_ptr& ex) {
  auto text = ex->header(min_position_header);
  if (!text)
    return true;
  auto at = parse_feed_position(*text);
  if (!at) {
    ex->problem_reply(400, std::string{"invalid "} + min_position_header
                             + " header: expected <partition>:<pseq>, as "
                               "X-HITL-Position gives it",
                      {{min_position_header,
                        "must be <partition 0-255>:<pseq ≥ 0>"}});
    return std::nullopt;
  }
  const auto& positions = ex->context().backend.positions;
  return positions && positions->at(at->partition) >= at->pseq;
}

void write_reply(const exchange_ptr& ex, int status, std::string body,
                 const std::string& position) {
  if (position.empty())
    ex->respond(status, std::move(body));
  else
    ex->respond(status, std::move(body), "application/json", position_header,
                position);
}

} // namespace hitl
