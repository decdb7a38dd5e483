#include "actors/crypto_thread_state.hpp"

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>

#include <openssl/crypto.h>

namespace hitl {

void release_crypto_state_at_exit(const caf::actor& a) {
  if (auto* ptr = caf::actor_cast<caf::abstract_actor*>(a))
    ptr->attach_functor([] { OPENSSL_thread_stop(); });
}

} // namespace hitl
