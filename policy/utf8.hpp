#pragma once

// UTF-8 as the service accepts it from clients: the one validator, used by
// the HTTP edge for ids, query values and header text.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace hitl {

/// Length of the well-formed UTF-8 sequence at s[i], or 0 when there is none
/// (overlong forms, surrogates and code points above U+10FFFF are not); its
/// code point goes to `cp`.
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp);

/// C0, DEL and C1: nothing a person types into an id or a query.
bool is_control(uint32_t cp);

/// Valid UTF-8 without control characters.
bool plain_text(std::string_view s);

/// Characters as PostgreSQL's varchar(n) counts them: code points (of text
/// already known to be valid UTF-8).
size_t char_count(std::string_view utf8);

/// Nothing but ASCII white space (or nothing at all).
bool is_blank(std::string_view s);

} // namespace hitl
