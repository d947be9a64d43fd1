#include "core/crypto/aead.hpp"

#include <memory>

#include "core/crypto/hash.hpp"
#include "core/crypto/openssl/ossl.hpp"

namespace aloft::core::crypto {
namespace {

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;
struct KdfFree {
  void operator()(EVP_KDF* k) const noexcept { EVP_KDF_free(k); }
};
struct KdfCtxFree {
  void operator()(EVP_KDF_CTX* c) const noexcept { EVP_KDF_CTX_free(c); }
};

// OpenSSL's parameter API takes non-const pointers to buffers it only reads.
void* Mutable(const void* p) { return const_cast<void*>(p); }
int Int(std::size_t n) { return static_cast<int>(n); }

Status CheckKey(ByteView key) {
  if (key.size() != kAes256GcmKeyBytes) {
    return Fail(Errc::kInvalidArgument, "AES-256-GCM needs a 32-byte key");
  }
  return Ok();
}

}  // namespace

Result<Bytes> HkdfSha256(ByteView ikm, ByteView salt, ByteView info, std::size_t length) {
  if (length == 0 || length > 255 * 32) {
    return Fail(Errc::kInvalidArgument, "HKDF-SHA256 output must be 1..8160 bytes");
  }
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf) return ossl::FailWithErrors(Errc::kInternal, "HKDF is not available");
  std::unique_ptr<EVP_KDF_CTX, KdfCtxFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx) return ossl::FailWithErrors(Errc::kInternal, "cannot make an HKDF context");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, Mutable(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, Mutable(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, Mutable(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "HKDF-SHA256 failed");
  }
  return out;
}

Result<Bytes> Aes256GcmSeal(ByteView key, ByteView plaintext, ByteView associated) {
  if (Status s = CheckKey(key); !s) return Fail(s.error());
  Bytes out(kAes256GcmNonceBytes + plaintext.size() + kAes256GcmTagBytes);
  std::uint8_t* nonce = out.data();
  std::uint8_t* body = nonce + kAes256GcmNonceBytes;
  std::uint8_t* tag = body + plaintext.size();
  if (Status s = RandomBytes(std::span(nonce, kAes256GcmNonceBytes)); !s) return Fail(s.error());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, Int(kAes256GcmNonceBytes),
                          nullptr) == 1 &&
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, associated.data(), Int(associated.size())) ==
          1 &&
      EVP_EncryptUpdate(ctx.get(), body, &len, plaintext.data(), Int(plaintext.size())) == 1 &&
      static_cast<std::size_t>(len) == plaintext.size() &&
      EVP_EncryptFinal_ex(ctx.get(), body + len, &len) == 1 && len == 0 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, Int(kAes256GcmTagBytes), tag) == 1;
  if (!ok) return ossl::FailWithErrors(Errc::kInternal, "AES-256-GCM encryption failed");
  return out;
}

Result<Bytes> Aes256GcmOpen(ByteView key, ByteView sealed, ByteView associated) {
  if (Status s = CheckKey(key); !s) return Fail(s.error());
  if (sealed.size() < kAes256GcmNonceBytes + kAes256GcmTagBytes) {
    return Fail(Errc::kInvalidArgument, "sealed data shorter than its nonce and tag");
  }
  const std::uint8_t* nonce = sealed.data();
  const std::uint8_t* body = nonce + kAes256GcmNonceBytes;
  const std::size_t body_size = sealed.size() - kAes256GcmNonceBytes - kAes256GcmTagBytes;
  const std::uint8_t* tag = body + body_size;
  Bytes plain(body_size);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  const bool ready =
      ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, Int(kAes256GcmNonceBytes),
                          nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, associated.data(), Int(associated.size())) ==
          1 &&
      EVP_DecryptUpdate(ctx.get(), plain.data(), &len, body, Int(body_size)) == 1 &&
      static_cast<std::size_t>(len) == body_size &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, Int(kAes256GcmTagBytes),
                          Mutable(tag)) == 1;
  if (!ready) {
    Cleanse(plain);
    return ossl::FailWithErrors(Errc::kInternal, "AES-256-GCM decryption failed");
  }
  // The tag is checked here: nothing decrypted leaves unless it matches.
  if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + len, &len) != 1) {
    Cleanse(plain);
    ERR_clear_error();
    return Fail(Errc::kVerificationFailed, "authentication tag mismatch");
  }
  return plain;
}

void Cleanse(std::span<std::uint8_t> bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace aloft::core::crypto
