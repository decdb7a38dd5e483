#pragma once

// The id that names one request in the log and in its answer
// (X-Request-Id): the client's when it is sane, otherwise one of ours.

#include <string>
#include <string_view>

namespace hitl {

/// Longest X-Request-Id taken from a client.
constexpr size_t max_request_id_length = 128;

/// Whether a client's X-Request-Id may be logged and echoed as it is:
/// 1 to max_request_id_length visible ASCII characters (0x21-0x7E), so no
/// space, control byte or non-ASCII byte, nothing that needs escaping in a
/// header, and a length that bounds the log line.
bool acceptable_request_id(std::string_view id);

/// A new id, unique within this process and, by its random prefix, very
/// likely across the nodes and restarts of a cluster: 8 hex digits chosen
/// at the process's start, '-', then a counter in hex. One atomic
/// increment and a short formatting: cheap enough for every request.
std::string generated_request_id();

} // namespace hitl
