#include "core/crypto/hash.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <vector>

#include "core/base/hex.hpp"
#include "core/crypto/openssl/ossl.hpp"

namespace aloft::core::crypto {
namespace {

const EVP_MD* Md(HashAlgorithm alg) noexcept {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return EVP_sha256();
    case HashAlgorithm::kSha512:
      return EVP_sha512();
  }
  ossl::Die("unknown HashAlgorithm");
}

}  // namespace

std::string_view HashAlgorithmName(HashAlgorithm alg) noexcept {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSha512:
      return "sha512";
  }
  return "unknown";
}

Result<HashAlgorithm> ParseHashAlgorithm(std::string_view name) {
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "sha512") return HashAlgorithm::kSha512;
  return Fail(Errc::kUnsupported, "unsupported hash algorithm '" + std::string(name) + "'");
}

std::size_t DigestSize(HashAlgorithm alg) noexcept {
  switch (alg) {
    case HashAlgorithm::kSha256:
      return 32;
    case HashAlgorithm::kSha512:
      return 64;
  }
  return 0;
}

// The context is allocated once per Hasher; Update feeds it directly, so hashing an image costs
// one OpenSSL call per chunk and no copies.
struct Hasher::State {
  ossl::EvpMdCtxPtr ctx;
};

Hasher::Hasher(HashAlgorithm alg) : alg_(alg), state_(std::make_unique<State>()) {
  state_->ctx.reset(EVP_MD_CTX_new());
  if (!state_->ctx || EVP_DigestInit_ex2(state_->ctx.get(), Md(alg), nullptr) != 1) {
    ossl::Die("cannot initialise a digest context");
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(ByteView data) {
  // Using a finished or moved-from Hasher is a caller bug, not bad input.
  if (!state_ || !state_->ctx) ossl::Die("Hasher::Update after Finish or move");
  if (data.empty()) return;
  if (EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size()) != 1) {
    ossl::Die("EVP_DigestUpdate failed");
  }
}

Bytes Hasher::Finish() {
  if (!state_ || !state_->ctx) ossl::Die("Hasher::Finish called twice or after move");
  Bytes out(static_cast<std::size_t>(EVP_MAX_MD_SIZE));
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(state_->ctx.get(), out.data(), &len) != 1) {
    ossl::Die("EVP_DigestFinal_ex failed");
  }
  state_->ctx.reset();
  out.resize(len);
  return out;
}

Bytes Digest(HashAlgorithm alg, ByteView data) {
  Bytes out(static_cast<std::size_t>(EVP_MAX_MD_SIZE));
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, Md(alg), nullptr) != 1) {
    ossl::Die("EVP_Digest failed");
  }
  out.resize(len);
  return out;
}

std::string Sha256Hex(ByteView data) { return HexEncode(Sha256(data)); }

bool ConstantTimeEqual(ByteView a, ByteView b) noexcept {
  // The length is not secret (digests and MACs have fixed sizes); the contents are.
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Bytes> HmacSha256(ByteView key, ByteView data) {
  if (key.size() < 16) return Fail(Errc::kInvalidArgument, "HMAC key shorter than 16 bytes");
  Bytes mac(32);
  std::size_t out_len = 0;
  // EVP_Q_mac is OpenSSL 3's one-shot MAC; the deprecated HMAC() is avoided.
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(), data.data(),
                data.size(), mac.data(), mac.size(), &out_len) == nullptr ||
      out_len != mac.size()) {
    return ossl::FailWithErrors(Errc::kInternal, "HMAC-SHA256 failed");
  }
  return mac;
}

// The keyed prototype, and contexts copied from it that earlier calls gave back: HMAC's
// re-init with no key (EVP_MAC_init(ctx, NULL, 0, NULL)) restores the keyed inner and outer
// states, which is cheap, while EVP_MAC_CTX_dup per call cost about half of the one-shot form.
struct HmacSha256Key::Context {
  static constexpr std::size_t kMaxIdle = 64;  // contexts kept for reuse (one per thread in use)
  EVP_MAC_CTX* keyed = nullptr;
  mutable std::mutex mutex;
  mutable std::vector<EVP_MAC_CTX*> idle;
  ~Context() {
    for (EVP_MAC_CTX* ctx : idle) EVP_MAC_CTX_free(ctx);
    EVP_MAC_CTX_free(keyed);
  }
  EVP_MAC_CTX* Take() const {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        EVP_MAC_CTX* ctx = idle.back();
        idle.pop_back();
        return ctx;
      }
    }
    return EVP_MAC_CTX_dup(keyed);
  }
  void Give(EVP_MAC_CTX* ctx) const {
    {
      std::lock_guard lock(mutex);
      if (idle.size() < kMaxIdle) {
        idle.push_back(ctx);
        return;
      }
    }
    EVP_MAC_CTX_free(ctx);
  }
};

Result<HmacSha256Key> HmacSha256Key::Create(ByteView key) {
  if (key.size() < 16) return Fail(Errc::kInvalidArgument, "HMAC key shorter than 16 bytes");
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) return ossl::FailWithErrors(Errc::kInternal, "HMAC is not available");
  auto ctx = std::make_shared<Context>();
  ctx->keyed = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context holds its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
  if (ctx->keyed == nullptr || EVP_MAC_init(ctx->keyed, key.data(), key.size(), params) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "HMAC-SHA256 key setup failed");
  }
  return HmacSha256Key(std::move(ctx));
}

Result<Bytes> HmacSha256Key::Mac(ByteView data) const {
  EVP_MAC_CTX* ctx = ctx_->Take();
  Bytes mac(32);
  std::size_t out_len = 0;
  // No key: HMAC starts over from the key the context was set up with.
  const bool ok = ctx != nullptr && EVP_MAC_init(ctx, nullptr, 0, nullptr) == 1 &&
                  EVP_MAC_update(ctx, data.data(), data.size()) == 1 &&
                  EVP_MAC_final(ctx, mac.data(), &out_len, mac.size()) == 1 &&
                  out_len == mac.size();
  if (!ok) {
    EVP_MAC_CTX_free(ctx);  // never reused after a failure
    return ossl::FailWithErrors(Errc::kInternal, "HMAC-SHA256 failed");
  }
  ctx_->Give(ctx);
  return mac;
}

Status RandomBytes(std::span<std::uint8_t> out) {
  // RAND_priv_bytes takes an int count; go in chunks so any span size works.
  constexpr std::size_t kChunk = std::size_t{1} << 30;
  std::size_t done = 0;
  while (done < out.size()) {
    std::size_t n = std::min(kChunk, out.size() - done);
    if (RAND_priv_bytes(out.data() + done, static_cast<int>(n)) != 1) {
      return ossl::FailWithErrors(Errc::kInternal, "the random number generator failed");
    }
    done += n;
  }
  return Ok();
}

}  // namespace aloft::core::crypto
