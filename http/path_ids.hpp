#pragma once

// Ids in request paths: decoded and checked at the edge, so that nothing is
// asked about an id that cannot exist (404) and no raw byte reaches an
// actor.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hitl {

enum class path_id_kind : uint8_t {
  decision_id, ///< valid_decision_id
  patch_id,    ///< what a created decision's patch_id may be
  file_name,   ///< a file of the web UI (its lookup decides the rest)
};

/// A path parameter as RESTinio's router hands it: still percent-encoded
/// (only the unreserved characters of RFC 3986 are decoded), or raw bytes a
/// client sent unencoded. Decodes it and returns the id when it follows the
/// body's rules for `kind` (SPEC §10: 1–255 characters of valid UTF-8, no
/// control characters, and the id's own rules); std::nullopt means 404.
std::optional<std::string> parse_path_id(std::string_view raw,
                                         path_id_kind kind);

} // namespace hitl
