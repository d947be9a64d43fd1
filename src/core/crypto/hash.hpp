#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"

namespace aloft::core::crypto {

enum class HashAlgorithm : std::uint8_t { kSha256, kSha512 };

// "sha256" / "sha512", as TUF names them in "hashes" objects.
std::string_view HashAlgorithmName(HashAlgorithm alg) noexcept;
Result<HashAlgorithm> ParseHashAlgorithm(std::string_view name);
std::size_t DigestSize(HashAlgorithm alg) noexcept;

// Streaming hash: Update any number of times, then Finish once. Lets a multi-gigabyte image be
// hashed in fixed memory as it streams past. Not thread-safe; movable, not copyable.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm alg);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  HashAlgorithm algorithm() const noexcept { return alg_; }
  void Update(ByteView data);
  // Returns the digest; the hasher must not be used afterwards.
  Bytes Finish();

 private:
  struct State;
  HashAlgorithm alg_;
  std::unique_ptr<State> state_;
};

// One-shot helpers.
Bytes Digest(HashAlgorithm alg, ByteView data);
inline Bytes Sha256(ByteView data) { return Digest(HashAlgorithm::kSha256, data); }
std::string Sha256Hex(ByteView data);

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool ConstantTimeEqual(ByteView a, ByteView b) noexcept;

// HMAC-SHA256 (RFC 2104) of `data` under `key` (at least 16 bytes: a shorter key is a bug in
// the caller's key handling, reported as kInvalidArgument).
Result<Bytes> HmacSha256(ByteView key, ByteView data);

// HMAC-SHA256 under a key set up once, for many MACs under the same key (aloftd checks one per
// authenticated request). HmacSha256 fetches the algorithm and keys a fresh context on every
// call, which cost ~8x the MAC of a short token; Mac() reuses contexts keyed at Create().
// Thread-safe: Mac() never changes the shared keyed context. Copyable (shares it).
class HmacSha256Key {
 public:
  // kInvalidArgument for a key shorter than 16 bytes, as HmacSha256.
  static Result<HmacSha256Key> Create(ByteView key);
  Result<Bytes> Mac(ByteView data) const;

 private:
  struct Context;
  explicit HmacSha256Key(std::shared_ptr<const Context> ctx) : ctx_(std::move(ctx)) {}
  std::shared_ptr<const Context> ctx_;
};

// Fills `out` from the operating system's CSPRNG (through OpenSSL's private DRBG).
Status RandomBytes(std::span<std::uint8_t> out);

}  // namespace aloft::core::crypto
