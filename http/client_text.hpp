#pragma once

// Client bytes made safe to echo or store: whatever a client sent, the
// result is valid UTF-8 without control characters, so no JSON writer can
// refuse it and no log line can be forged with it.

#include <cstddef>
#include <string>
#include <string_view>

namespace hitl {

/// Client text made safe to echo in a problem's detail: each byte that is
/// not valid UTF-8 and each control character written as \xNN, and cut
/// after `max_chars` characters with "...".
std::string echoable_text(std::string_view raw, size_t max_chars);

/// A header's text as it may be stored and put into JSON: at most
/// `max_bytes`, cut at a character boundary, with every byte that is not
/// part of valid UTF-8 and every control character (C0, DEL, C1) replaced
/// by U+FFFD. (Clients send what they like in User-Agent.)
std::string storable_text(std::string_view raw, size_t max_bytes);

} // namespace hitl
