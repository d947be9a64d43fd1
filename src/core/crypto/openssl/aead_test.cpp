#include "core/crypto/aead.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/base/hex.hpp"

namespace aloft::core::crypto {
namespace {

Bytes FromHex(std::string_view hex) { return *HexDecode(hex); }

// RFC 5869, appendix A.1 (HKDF-SHA256, basic test case).
TEST(AeadTest, HkdfSha256Rfc5869Case1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = FromHex("000102030405060708090a0b0c");
  const Bytes info = FromHex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = HkdfSha256(ikm, salt, info, 42);
  ASSERT_TRUE(okm) << okm.error().ToString();
  EXPECT_EQ(HexEncode(*okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  EXPECT_FALSE(HkdfSha256(ikm, salt, info, 0));
  EXPECT_FALSE(HkdfSha256(ikm, salt, info, 255 * 32 + 1));
}

TEST(AeadTest, SealOpensOnlyWithTheSameKeyAndAssociatedData) {
  const Bytes key(32, 7);
  const Bytes plain = FromHex("00112233445566778899aabbccddeeff0011");
  const std::string_view aad_text = "aloft/totp-seed/v1/alice";
  const Bytes aad(aad_text.begin(), aad_text.end());
  auto sealed = Aes256GcmSeal(key, plain, aad);
  ASSERT_TRUE(sealed) << sealed.error().ToString();
  ASSERT_EQ(sealed->size(), kAes256GcmNonceBytes + plain.size() + kAes256GcmTagBytes);
  EXPECT_EQ(*Aes256GcmOpen(key, *sealed, aad), plain);
  // A fresh nonce each time: the same plaintext never seals to the same bytes.
  EXPECT_NE(*Aes256GcmSeal(key, plain, aad), *sealed);

  for (std::size_t i = 0; i < sealed->size(); ++i) {  // every byte is covered by the tag
    Bytes altered = *sealed;
    altered[i] ^= 0x01;
    EXPECT_EQ(Aes256GcmOpen(key, altered, aad).error().code(), Errc::kVerificationFailed) << i;
  }
  EXPECT_EQ(Aes256GcmOpen(Bytes(32, 8), *sealed, aad).error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(Aes256GcmOpen(key, *sealed, Bytes{}).error().code(), Errc::kVerificationFailed);
  EXPECT_EQ(Aes256GcmOpen(key, Bytes(27, 0), aad).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(Aes256GcmSeal(Bytes(16, 1), plain, aad).error().code(), Errc::kInvalidArgument);
  auto empty = Aes256GcmSeal(key, Bytes{}, aad);
  ASSERT_TRUE(empty);
  EXPECT_EQ(Aes256GcmOpen(key, *empty, aad)->size(), 0u);
}

}  // namespace
}  // namespace aloft::core::crypto
