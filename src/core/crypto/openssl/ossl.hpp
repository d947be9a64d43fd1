#pragma once

// Shared plumbing for the OpenSSL implementation of core/crypto: RAII owners for the OpenSSL
// objects we use, and turning OpenSSL's thread-local error queue into Aloft errors. This folder
// is the only place in the tree that includes OpenSSL headers; nothing here leaks into the
// public crypto headers. Files here reach OpenSSL only through this header, so the API-level
// macros below are in force for every OpenSSL declaration they see.

// Hide every API that OpenSSL 3.0 deprecated, so the compiler rejects a use of the old
// low-level interfaces (RSA_*, EC_KEY_*, SHA256_*) rather than just warning about it.
#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 30000
#endif
#ifndef OPENSSL_NO_DEPRECATED
#define OPENSSL_NO_DEPRECATED
#endif

// Every OpenSSL header this folder uses, so that the macros above come before all of them.
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/params.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::core::crypto::ossl {

struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct EvpPkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const noexcept { EVP_PKEY_CTX_free(p); }
};
struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
// Memory OpenSSL handed us from OPENSSL_malloc (PEM_read_bio's name/header/data).
struct OpenSslFree {
  void operator()(void* p) const noexcept { OPENSSL_free(p); }
};

using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Drains the calling thread's OpenSSL error queue and returns its reasons as
// " (reason; reason)", or "" when the queue was empty. Call it on every failure path, so that a
// stale error never shows up in an unrelated later message.
std::string TakeErrors();

// Fail(code, what + TakeErrors()).
tl::unexpected<Error> FailWithErrors(Errc code, std::string what);

// The contents of a memory BIO as a string (copied; the BIO keeps its own buffer).
std::string MemBioContents(BIO* bio);

// A read-only memory BIO over `data`, which must outlive the BIO. Null on allocation failure.
BioPtr ReadOnlyBio(std::string_view data);

// Aborts the process with `what`. For invariants that only OpenSSL being broken or out of
// memory can violate (SHA-256 is always available in the default provider), where the API has
// no error channel.
[[noreturn]] void Die(const char* what) noexcept;

}  // namespace aloft::core::crypto::ossl
