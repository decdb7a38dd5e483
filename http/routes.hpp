#pragma once

// The routes' handlers, grouped by resource in files of their own; the
// table (http/route_table.cpp) says which path and role each serves. Each
// gets an exchange whose path id and caller are already checked.

#include "http/exchange.hpp"
#include "http/route_table.hpp"

namespace hitl::routes {

// http/verdict_routes.cpp: a reviewer's or a service's act on a patch.
void approve(const exchange_ptr& ex, route_call& call);
void reject(const exchange_ptr& ex, route_call& call);
void comment(const exchange_ptr& ex, route_call& call);
void cancel(const exchange_ptr& ex, route_call& call);

// http/decision_routes.cpp: creating a decision, reading one (long-poll).
void create_decision(const exchange_ptr& ex, route_call& call);
void get_decision(const exchange_ptr& ex, route_call& call);

// http/query_routes.cpp: the queue, analytics and the audit trail.
void pending(const exchange_ptr& ex, route_call& call);
void summary(const exchange_ptr& ex, route_call& call);
void audit_logs(const exchange_ptr& ex, route_call& call);
void verify(const exchange_ptr& ex, route_call& call);

// http/export_route.cpp: the streamed audit export.
void audit_export(const exchange_ptr& ex, route_call& call);

// http/operations_routes.cpp: what operators and tools read.
void health(const exchange_ptr& ex, route_call& call);
void metrics(const exchange_ptr& ex, route_call& call);
void openapi(const exchange_ptr& ex, route_call& call);
void public_key(const exchange_ptr& ex, route_call& call);

// http/web_routes.cpp: the reviewer UI's files.
void web_file(const exchange_ptr& ex, route_call& call);

// http/server.cpp: the live event stream (it takes the socket from
// RESTinio).
void event_stream(const exchange_ptr& ex, route_call& call);

} // namespace hitl::routes
