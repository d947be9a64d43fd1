#pragma once

// The "raw OpenSSL" baseline for signature verification: what a caller would write with
// EVP_DigestVerify directly, with none of PublicKey's checks or error handling. Benchmarks
// only. The header names no OpenSSL type, so core_bench.cpp stays free of OpenSSL includes.

#include <memory>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::bench {

class RawOpenSslVerifier {
 public:
  // Loads the same key material as `key` (TUF's spelling: raw hex for ed25519, SPKI PEM
  // otherwise) into a plain EVP_PKEY. Aborts if OpenSSL refuses it: a broken benchmark.
  explicit RawOpenSslVerifier(const core::crypto::PublicKey& key);
  ~RawOpenSslVerifier();
  RawOpenSslVerifier(const RawOpenSslVerifier&) = delete;
  RawOpenSslVerifier& operator=(const RawOpenSslVerifier&) = delete;

  // One EVP_DigestVerify with a fresh context, the scheme's digest (none for ed25519) and,
  // for RSA, PSS with any salt length: the same work PublicKey::Verify asks OpenSSL for.
  bool Verify(ByteView message, ByteView signature) const;

 private:
  struct Key;
  std::unique_ptr<Key> key_;
};

}  // namespace aloft::bench
