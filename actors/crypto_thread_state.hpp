#pragma once

namespace caf {
class actor;
}

namespace hitl {

/// Makes the detached actor `a` free OpenSSL's state for its thread (the
/// error queue every thread that hashes or signs gets) when it terminates.
///
/// Why: CAF 0.17 runs a detached actor on a detached thread and counts the
/// thread as gone before the thread has run its thread-local destructors.
/// `hitl serve` may therefore return from main, and OpenSSL's atexit handler
/// delete its thread-local keys, while such a thread is still ending; glibc
/// then clears the thread's slot without calling OpenSSL's destructor and the
/// 904-byte error queue is lost (LeakSanitizer caught it once at serve's exit
/// in CI). The actor's exit handlers run on its own thread, before CAF counts
/// the thread down, so freeing the state there closes the race.
void release_crypto_state_at_exit(const caf::actor& a);

} // namespace hitl
