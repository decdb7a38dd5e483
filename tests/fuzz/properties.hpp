#pragma once

// What every fuzz target asserts beyond "no crash": a refusal is a proper
// 400/422 problem, and whatever a parser returns can be written as JSON and
// stored. A violated property aborts, so libFuzzer keeps the input.

#include "http/body_schemas.hpp"
#include "http/client_text.hpp"
#include "http/path_ids.hpp"
#include "http/query_strings.hpp"
#include "http/response_json.hpp"
#include "policy/audit_chain.hpp"
#include "policy/decision_json.hpp"
#include "policy/lifecycle.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hitl::fuzz {

[[noreturn]] inline void violated(const char* what, const char* file,
                                  int line) {
  std::fprintf(stderr, "\nproperty violated at %s:%d: %s\n", file, line,
               what);
  std::abort();
}

#define FUZZ_REQUIRE(cond)                                                     \
  ((cond) ? void() : ::hitl::fuzz::violated(#cond, __FILE__, __LINE__))

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// True when nlohmann's strict dump takes the text, i.e. it is valid UTF-8;
/// the service's responses are written that way.
inline bool dumpable(std::string_view s) {
  try {
    (void) nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

/// What PostgreSQL takes into a text column of the UTF8 database: valid
/// UTF-8 without NUL, at most `max_chars` code points.
inline bool storable(std::string_view s, size_t max_chars) {
  if (!dumpable(s) || s.find('\0') != std::string_view::npos)
    return false;
  size_t chars = 0;
  for (char c : s)
    chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars <= max_chars;
}

inline bool storable(const std::string& s, size_t max_chars) {
  return storable(std::string_view{s}, max_chars);
}

inline bool storable(const std::optional<std::string>& s, size_t max_chars) {
  return !s || storable(*s, max_chars);
}

/// A refusal as the server sends it: one of `statuses`, a detail for a
/// person, named fields, and a problem document that serializes.
inline void check_refusal(const request_error& err,
                          std::initializer_list<int> statuses) {
  bool known = false;
  for (int s : statuses)
    known = known || s == err.status;
  FUZZ_REQUIRE(known);
  FUZZ_REQUIRE(!err.detail.empty());
  FUZZ_REQUIRE(err.errors.size() <= 100);
  for (const auto& e : err.errors)
    FUZZ_REQUIRE(!e.message.empty());
  // The server's problem+json body; dump() throws on invalid UTF-8.
  auto body = problem(err.status, err.detail, err.errors).dump();
  FUZZ_REQUIRE(nlohmann::json::accept(body));
}

/// The refusal, if `p` is one (checked), else nullptr.
template <class T>
const T* accepted(const parsed<T>& p, std::initializer_list<int> statuses) {
  if (const auto* err = std::get_if<request_error>(&p)) {
    check_refusal(*err, statuses);
    return nullptr;
  }
  return &std::get<T>(p);
}

/// A fixed instant, so that a crashing input replays exactly.
inline timestamp fixed_now() {
  return from_micros(1'767'225'600'000'000); // 2026-01-01T00:00:00Z
}

/// What the service writes for a change: the record and its event as JSON,
/// and audit notes whose details are canonical and whose entries seal and
/// verify as a chain.
inline void check_change(const change& c, const std::string& who) {
  FUZZ_REQUIRE(nlohmann::json::accept(record_json(c.after)));
  for (const auto& event : c.events)
    FUZZ_REQUIRE(nlohmann::json::accept(event_payload(
      event, c.after, c.new_comment, fixed_now(), "https://hitl.example")));
  chain_verifier verifier;
  std::string prev{genesis_prev_hash};
  int64_t seq = 0;
  for (const auto& note : c.notes) {
    auto details = nlohmann::json::parse(note.details_json);
    FUZZ_REQUIRE(details.is_object());
    FUZZ_REQUIRE(canonical_details(details) == note.details_json);
    audit_entry e;
    e.seq = ++seq;
    e.decision_id = c.after.decision_id;
    e.action = note.action;
    e.performed_by = note.performed_by.value_or(who);
    e.at = fixed_now();
    e.details_json = note.details_json;
    seal(e, prev);
    FUZZ_REQUIRE(!verifier.feed(e));
    FUZZ_REQUIRE(nlohmann::json::accept(canonical_json(e)));
    prev = e.hash;
  }
}

} // namespace hitl::fuzz
