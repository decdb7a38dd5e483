#include "policy/checkpoint_signature.hpp"

#include "policy/sha256.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>

namespace hitl {

struct verify_key::impl {
  EVP_PKEY* key = nullptr;
  ~impl() {
    EVP_PKEY_free(key);
  }
};

namespace {

constexpr size_t raw_key_size = 32;
constexpr size_t signature_size = 64;

[[noreturn]] void fail(const std::string& what) {
  ERR_clear_error();
  throw signature_error(what);
}

struct bio_deleter {
  void operator()(BIO* b) const {
    BIO_free(b);
  }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

struct md_ctx_deleter {
  void operator()(EVP_MD_CTX* c) const {
    EVP_MD_CTX_free(c);
  }
};
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, md_ctx_deleter>;

bio_ptr read_bio(std::string_view pem) {
  bio_ptr b{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
  if (!b)
    fail("out of memory");
  return b;
}

std::string drain(BIO* b) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::shared_ptr<verify_key::impl> adopt(EVP_PKEY* key) {
  auto out = std::make_shared<verify_key::impl>();
  out->key = key;
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
    fail("not an Ed25519 key");
  return out;
}

std::string key_id_of(EVP_PKEY* key) {
  std::array<unsigned char, raw_key_size> raw{};
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1
      || len != raw.size())
    fail("cannot read the raw public key");
  auto digest = sha256_hex(
    std::string_view{reinterpret_cast<const char*>(raw.data()), len});
  return digest.substr(0, 16);
}

std::string base64(const unsigned char* p, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  auto written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 p, static_cast<int>(n));
  out.resize(static_cast<size_t>(written));
  return out;
}

// Exactly the padded base64 of 64 bytes, nothing else: a second spelling of
// the same signature would make lines that differ yet verify alike.
bool decode_signature(std::string_view b64,
                      std::array<unsigned char, signature_size>& out) {
  constexpr size_t encoded_size = 4 * ((signature_size + 2) / 3);
  if (b64.size() != encoded_size)
    return false;
  std::array<unsigned char, encoded_size> buf{};
  auto n = EVP_DecodeBlock(buf.data(),
                           reinterpret_cast<const unsigned char*>(b64.data()),
                           static_cast<int>(b64.size()));
  if (n < static_cast<int>(signature_size))
    return false;
  std::copy_n(buf.begin(), signature_size, out.begin());
  return base64(out.data(), out.size()) == b64;
}

} // namespace

// -- verify_key ---------------------------------------------------------------

verify_key verify_key::from_pem(std::string_view pem) {
  EVP_PKEY* key = nullptr;
  {
    auto b = read_bio(pem);
    key = PEM_read_bio_PUBKEY(b.get(), nullptr, nullptr, nullptr);
  }
  if (key == nullptr) {
    ERR_clear_error();
    auto b = read_bio(pem);
    key = PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr);
  }
  if (key == nullptr)
    fail("not a PEM public or private key");
  verify_key out;
  out.impl_ = adopt(key);
  out.key_id_ = key_id_of(key);
  return out;
}

bool verify_key::verify(std::string_view message,
                        std::string_view signature_b64) const {
  std::array<unsigned char, signature_size> sig{};
  if (!impl_ || !decode_signature(signature_b64, sig))
    return false;
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  if (!ctx
      || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key)
           != 1)
    fail("cannot start a verification");
  auto ok = EVP_DigestVerify(
    ctx.get(), sig.data(), sig.size(),
    reinterpret_cast<const unsigned char*>(message.data()), message.size());
  ERR_clear_error();
  return ok == 1;
}

std::string verify_key::to_pem() const {
  bio_ptr b{BIO_new(BIO_s_mem())};
  if (!b || !impl_ || PEM_write_bio_PUBKEY(b.get(), impl_->key) != 1)
    fail("cannot write the public key");
  return drain(b.get());
}

// -- signing_key --------------------------------------------------------------

signing_key signing_key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr)
    fail("cannot generate an Ed25519 key");
  signing_key out;
  out.impl_ = adopt(key);
  out.public_.impl_ = out.impl_;
  out.public_.key_id_ = key_id_of(key);
  return out;
}

signing_key signing_key::from_pem(std::string_view pem) {
  auto b = read_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr);
  if (key == nullptr)
    fail("not a PEM private key (an unencrypted PKCS#8 `PRIVATE KEY`)");
  signing_key out;
  out.impl_ = adopt(key);
  out.public_.impl_ = out.impl_;
  out.public_.key_id_ = key_id_of(key);
  return out;
}

std::string signing_key::sign(std::string_view message) const {
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  if (!ctx
      || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->key)
           != 1)
    fail("cannot start a signature");
  std::array<unsigned char, signature_size> sig{};
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), sig.data(), &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size())
        != 1
      || len != sig.size())
    fail("cannot sign");
  return base64(sig.data(), sig.size());
}

std::string signing_key::to_pem() const {
  bio_ptr b{BIO_new(BIO_s_mem())};
  if (!b
      || PEM_write_bio_PrivateKey(b.get(), impl_->key, nullptr, nullptr, 0,
                                  nullptr, nullptr)
           != 1)
    fail("cannot write the private key");
  return drain(b.get());
}

} // namespace hitl
