#pragma once

// An exchange made from, and seen as, RESTinio's request: only for the
// translation units that include RESTinio anyway (http/server.cpp,
// http/exchange.cpp).

#include "http/exchange.hpp"

#include <restinio/request_handler.hpp>

#include <memory>

namespace hitl {

inline exchange_ptr make_exchange(server_context& ctx,
                                  restinio::request_handle_t req,
                                  const char* route) {
  return std::make_shared<exchange>(ctx, std::move(req), route);
}

inline restinio::request_handle_t request_of(const exchange& ex) {
  return std::static_pointer_cast<restinio::request_t>(ex.request_handle());
}

} // namespace hitl
