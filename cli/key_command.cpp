// `hitl key create --out FILE`: the Ed25519 key that signs audit
// checkpoints (SPEC §11). The private key goes only to the new file; stdout
// carries the public key's PEM, for whoever will check the checkpoints.

#include "cli/commands.hpp"

#include "persistence/signing_key_file.hpp"

#include <cstdlib>
#include <iostream>

namespace hitl {

int run_key_create(const std::string& out_path) {
  try {
    auto key = signing_key::generate();
    write_new_key_file(out_path, key);
    std::cerr << "wrote the signing key " << key.public_key().key_id()
              << " to " << out_path << " (mode 0600); set audit.signing_key "
              << "to it, and keep the public key below outside the service\n";
    std::cout << key.public_key().to_pem() << std::flush;
    return EXIT_SUCCESS;
  } catch (const std::exception& e) {
    std::cerr << "hitl: " << e.what() << "\n";
    return EXIT_FAILURE;
  }
}

} // namespace hitl
