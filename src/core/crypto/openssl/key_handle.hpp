#pragma once

// The definition behind keys.hpp's opaque detail::KeyHandle. Only this folder includes it.

#include "core/crypto/keys.hpp"
#include "core/crypto/openssl/ossl.hpp"

namespace aloft::core::crypto::detail {

// One loaded key (public, or private with its public half). Immutable once built and only ever
// reached through shared_ptr<const KeyHandle>: OpenSSL 3 allows concurrent signing and
// verification with one EVP_PKEY as long as nobody modifies it, and each operation makes its
// own EVP_MD_CTX/EVP_PKEY_CTX.
struct KeyHandle {
  KeyHandle(KeyType t, ossl::EvpPkeyPtr p) : type(t), pkey(std::move(p)) {}

  const KeyType type;
  // Never null. The pointer is non-const only because OpenSSL's signatures are.
  const ossl::EvpPkeyPtr pkey;
};

}  // namespace aloft::core::crypto::detail
