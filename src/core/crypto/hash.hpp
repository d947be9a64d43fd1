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

// Fills `out` from the operating system's CSPRNG (through OpenSSL's private DRBG).
Status RandomBytes(std::span<std::uint8_t> out);

}  // namespace aloft::core::crypto
