#include "policy/audit_checkpoint.hpp"
#include "policy/checkpoint_signature.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace hitl;

namespace {

audit_checkpoint sample_checkpoint() {
  audit_checkpoint c;
  c.seq = 42;
  c.hash = std::string(64, 'a');
  c.at = from_micros(1764700000123456);
  c.count = 42;
  return c;
}

} // namespace

TEST_CASE("an Ed25519 signature verifies with its key, over those bytes only") {
  auto key = signing_key::generate();
  auto sig = key.sign("the chain head");
  CHECK(sig.size() == 88);
  CHECK(key.public_key().verify("the chain head", sig));
  CHECK_FALSE(key.public_key().verify("the chain heaD", sig));
  CHECK_FALSE(key.public_key().verify("the chain head", sig.substr(1)));
  auto other = signing_key::generate();
  CHECK_FALSE(other.public_key().verify("the chain head", sig));
  CHECK(other.public_key().key_id() != key.public_key().key_id());
}

TEST_CASE("keys survive their PEM form; other PEMs are refused") {
  auto key = signing_key::generate();
  auto again = signing_key::from_pem(key.to_pem());
  CHECK(again.public_key().key_id() == key.public_key().key_id());
  auto pub = verify_key::from_pem(key.public_key().to_pem());
  CHECK(pub.key_id() == key.public_key().key_id());
  CHECK(pub.key_id().size() == 16);
  CHECK(pub.verify("x", again.sign("x")));
  CHECK(key.public_key().to_pem().rfind("-----BEGIN PUBLIC KEY-----", 0) == 0);
  CHECK_THROWS_AS(signing_key::from_pem("not a key"), signature_error);
  CHECK_THROWS_AS(signing_key::from_pem(key.public_key().to_pem()),
                  signature_error);
  CHECK_THROWS_AS(verify_key::from_pem(""), signature_error);
}

TEST_CASE("a signed checkpoint verifies; any changed member does not") {
  auto key = signing_key::generate();
  auto c = sample_checkpoint();
  sign_checkpoint(c, key);
  CHECK(c.key_id == key.public_key().key_id());
  CHECK_FALSE(checkpoint_fault(c, key.public_key()));
  CHECK(signed_bytes(c)
        == R"({"at":"2025-12-02T18:26:40.123456Z","count":42,"hash":")"
             + std::string(64, 'a') + R"(","key_id":")" + c.key_id
             + R"(","seq":42})");
  auto altered = c;
  altered.count = 41;
  CHECK(checkpoint_fault(altered, key.public_key()));
  altered = c;
  altered.hash[0] = 'b';
  CHECK(checkpoint_fault(altered, key.public_key()));
  altered = c;
  altered.at += std::chrono::microseconds(1);
  CHECK(checkpoint_fault(altered, key.public_key()));
  auto other = signing_key::generate();
  auto fault = checkpoint_fault(c, other.public_key());
  REQUIRE(fault);
  CHECK(fault->find("not by the given key") != std::string::npos);
  // A forger who names the right key id still lacks its signature.
  auto forged = c;
  forged.seq = 43;
  sign_checkpoint(forged, other);
  forged.key_id = c.key_id;
  CHECK(checkpoint_fault(forged, key.public_key()));
}

TEST_CASE("a checkpoint line round-trips; a malformed one is named") {
  auto key = signing_key::generate();
  auto c = sample_checkpoint();
  sign_checkpoint(c, key);
  auto parsed = parse_checkpoint_line(to_json_line(c));
  REQUIRE(parsed.checkpoint);
  CHECK(to_json_line(*parsed.checkpoint) == to_json_line(c));
  CHECK_FALSE(checkpoint_fault(*parsed.checkpoint, key.public_key()));
  CHECK(parse_checkpoint_line("[]").error == "not a JSON object");
  CHECK(parse_checkpoint_line(R"({"seq":-1})").error.rfind("seq", 0) == 0);
  auto no_hash = R"({"seq":1,"count":1,"hash":"xyz"})";
  CHECK(parse_checkpoint_line(no_hash).error.rfind("hash", 0) == 0);
}
