// Exception to the rule that OpenSSL headers are included only in src/core/crypto/openssl/:
// this file is a benchmark baseline, the hand-written EVP_DigestVerify call that
// PublicKey::Verify is measured against, so the ratio between them is the wrapper's overhead.
// Nothing but the benchmark links it; no production code may take it as an example.

#include "bench/openssl_baseline.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <iostream>

#include "core/base/hex.hpp"

namespace aloft::bench {

using core::crypto::KeyType;

struct RawOpenSslVerifier::Key {
  KeyType type = KeyType::kEd25519;
  EVP_PKEY* pkey = nullptr;
};

namespace {

[[noreturn]] void Die(std::string_view what) {
  std::cerr << "openssl baseline: " << what << "\n";
  std::abort();
}

EVP_PKEY* LoadPublicKey(const core::crypto::PublicKey& key) {
  if (key.type() == KeyType::kEd25519) {
    auto raw = HexDecode(key.public_value());
    if (!raw) Die("bad ed25519 hex");
    return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw->data(), raw->size());
  }
  const std::string& pem = key.public_value();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) Die("BIO_new_mem_buf");
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return pkey;
}

}  // namespace

RawOpenSslVerifier::RawOpenSslVerifier(const core::crypto::PublicKey& key)
    : key_(std::make_unique<Key>()) {
  key_->type = key.type();
  key_->pkey = LoadPublicKey(key);
  if (key_->pkey == nullptr) Die("cannot load the public key");
}

RawOpenSslVerifier::~RawOpenSslVerifier() { EVP_PKEY_free(key_->pkey); }

bool RawOpenSslVerifier::Verify(ByteView message, ByteView signature) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  const char* digest = key_->type == KeyType::kEd25519 ? nullptr : "SHA256";
  bool ok = EVP_DigestVerifyInit_ex(ctx, &pctx, digest, nullptr, nullptr, key_->pkey, nullptr) == 1;
  if (ok && key_->type == KeyType::kRsa) {
    // MGF1 defaults to the signature digest, SHA-256.
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
  }
  ok = ok && EVP_DigestVerify(ctx, signature.data(), signature.size(), message.data(),
                              message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace aloft::bench
