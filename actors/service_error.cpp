#include "actors/service_error.hpp"

#include "persistence/db_error.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>
#include <spdlog/spdlog.h>

namespace hitl {

namespace {

constexpr caf::atom_value category = caf::atom("hitl");

} // namespace

std::string_view to_string(service_errc e) {
  switch (e) {
    case service_errc::not_found:
      return "not_found";
    case service_errc::conflict:
      return "conflict";
    case service_errc::self_approval:
      return "self_approval";
    case service_errc::invalid:
      return "invalid";
    case service_errc::unavailable:
      return "unavailable";
    case service_errc::internal:
      return "internal";
    case service_errc::moved:
      return "moved";
  }
  return "internal";
}

caf::error make_service_error(service_errc code, std::string detail) {
  return caf::error{static_cast<uint8_t>(code), category,
                    caf::make_message(std::move(detail))};
}

service_errc service_errc_of(db_errc e) {
  switch (e) {
    case db_errc::unavailable:
    case db_errc::in_doubt:
    case db_errc::retry:
      return service_errc::unavailable;
    case db_errc::conflict:
      return service_errc::conflict;
    case db_errc::constraint:
      return service_errc::invalid;
    case db_errc::internal:
      break;
  }
  return service_errc::internal;
}

caf::error to_service_error(const db_error& e) {
  auto code = service_errc_of(e.code);
  switch (code) {
    case service_errc::unavailable:
      // Said where it happens (pool, auditor), with what was lost.
      spdlog::debug("database unavailable ({}): {}", to_string(e.code),
                    e.what());
      return make_service_error(code, "the database is unavailable");
    case service_errc::conflict:
      spdlog::warn("database refused a change as a conflict: {}", e.what());
      return make_service_error(code,
                                "the change conflicts with what is stored "
                                "(another request or node changed it); read "
                                "it again");
    case service_errc::invalid:
      spdlog::warn("database refused a change's values: {}", e.what());
      return make_service_error(code, "the values were refused by the "
                                      "database's rules");
    case service_errc::not_found:
    case service_errc::self_approval:
    case service_errc::internal:
    case service_errc::moved:
      break;
  }
  spdlog::error("database error: {}", e.what());
  return make_service_error(service_errc::internal, "database error");
}

service_errc service_code(const caf::error& err) {
  if (err.category() == category)
    return static_cast<service_errc>(err.code());
  return service_errc::unavailable;
}

std::string service_detail(const caf::error& err) {
  const auto& ctx = err.context();
  if (err.category() == category && ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  if (err.category() == caf::atom("system")) {
    auto code = static_cast<caf::sec>(err.code());
    if (code == caf::sec::request_timeout)
      return "the service did not answer in time";
    return "the service is shutting down or overloaded ("
           + caf::to_string(code) + ")";
  }
  return "internal error";
}

} // namespace hitl
