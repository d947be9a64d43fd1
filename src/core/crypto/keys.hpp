#pragma once

// Public and private keys in TUF's three key types, over OpenSSL 3:
//   keytype "ed25519", scheme "ed25519", keyval.public = 64 hex characters (raw key)
//   keytype "ecdsa" (or legacy "ecdsa-sha2-nistp256"), scheme "ecdsa-sha2-nistp256",
//       keyval.public = SubjectPublicKeyInfo PEM; signatures are DER, SHA-256 prehash
//   keytype "rsa", scheme "rsassa-pss-sha256", keyval.public = SubjectPublicKeyInfo PEM;
//       PSS with SHA-256 and MGF1-SHA-256; we sign with a 32-byte salt and verify any salt
// Keys are immutable values, cheap to copy (shared handle), safe to use from several threads.
// A default-constructed (or moved-from) key holds no key material: Verify fails with
// kVerificationFailed, SameKeyAs is false, Sign and ToPem fail with kInvalidArgument.

#include <memory>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/codec/json.hpp"

namespace aloft::core::crypto {

enum class KeyType : std::uint8_t { kEd25519, kEcdsaP256, kRsa };

// "ed25519", "ecdsa", "rsa"; parses those and the legacy "ecdsa-sha2-nistp256".
std::string_view KeyTypeName(KeyType type) noexcept;
Result<KeyType> ParseKeyType(std::string_view name);

namespace detail {
struct KeyHandle;  // wraps EVP_PKEY; defined in crypto/openssl/
}

class PublicKey {
 public:
  // Parses and validates a key as TUF writes it. Fails with kUnsupported for an unknown
  // keytype/scheme pair and kInvalidArgument for malformed key material (wrong curve, RSA
  // below 2048 bits, bad hex or PEM).
  static Result<PublicKey> FromTuf(std::string_view keytype, std::string_view scheme,
                                   std::string_view public_value);
  // Parses {"keytype":..,"scheme":..,"keyval":{"public":..}}; other members are ignored but
  // kept, so that ToTufJson() of a parsed key reproduces them.
  static Result<PublicKey> FromTufJson(const codec::Json& key);

  KeyType type() const noexcept;
  const std::string& keytype() const noexcept;  // exactly as given (keeps legacy names)
  const std::string& scheme() const noexcept;
  const std::string& public_value() const noexcept;

  // The key in TUF's JSON form.
  const codec::Json& ToTufJson() const noexcept;
  // TUF's default key ID: hex SHA-256 of the canonical JSON of {keytype, scheme, keyval}.
  // Exactly those members (keyval holding only "public"), as securesystemslib computes it; the
  // strings are taken as given, so the legacy keytype or another PEM spelling changes the ID.
  std::string ComputeKeyId() const;

  // Ok() if `signature` is this key's signature over `message`; kVerificationFailed otherwise.
  // Never throws; malformed signatures are just failed verifications.
  Status Verify(ByteView message, ByteView signature) const;

  // Same key material (ignores how it was spelled in JSON).
  bool SameKeyAs(const PublicKey& other) const;

 private:
  std::shared_ptr<const detail::KeyHandle> handle_;
  std::string keytype_, scheme_, public_;
  codec::Json json_;
  friend class PrivateKey;
};

class PrivateKey {
 public:
  // A fresh key from the OS CSPRNG. RSA keys are 3072 bits.
  static Result<PrivateKey> Generate(KeyType type);
  // PKCS#8 PEM, encrypted ("ENCRYPTED PRIVATE KEY") when `passphrase` is non-empty. A wrong
  // passphrase gives kVerificationFailed with a message that says so.
  // Also reads what OpenSSL reads besides PKCS#8 ("RSA/EC PRIVATE KEY", Proc-Type encryption),
  // PBKDF2 or scrypt. An encrypted key without a passphrase is kInvalidArgument (never a
  // terminal prompt); a key of another type is kUnsupported; a key TUF refuses (RSA outside
  // 2048..8192 bits, a curve other than P-256) is kInvalidArgument.
  static Result<PrivateKey> FromPem(std::string_view pem, std::string_view passphrase = {});
  // PKCS#8 PEM; with a passphrase, encrypted with AES-256-CBC under a scrypt-derived key
  // (PBES2; N=2^14, r=8, p=1, 16-byte random salt). The returned string holds the secret: the
  // caller should clear it (OPENSSL_cleanse or equivalent) when done.
  Result<std::string> ToPem(std::string_view passphrase = {}) const;

  KeyType type() const noexcept;
  const PublicKey& Public() const noexcept { return public_; }
  std::string KeyId() const { return public_.ComputeKeyId(); }

  // Signs with the key's TUF scheme. Deterministic for ed25519; randomised for ECDSA and PSS.
  Result<Bytes> Sign(ByteView message) const;

 private:
  std::shared_ptr<const detail::KeyHandle> handle_;
  PublicKey public_;
};

}  // namespace aloft::core::crypto
