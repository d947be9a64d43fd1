// TotpSeedCipher: AES-256-GCM sealing of TOTP seeds under the KEK, bound to the username.

#include "server/operators/totp_seed_cipher.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace aloft::server::operators {
namespace {

constexpr std::string_view kKek =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr std::string_view kOtherKek =
    "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

TotpSeedCipher Cipher(std::string_view kek = kKek) {
  auto c = TotpSeedCipher::Create(kek);
  EXPECT_TRUE(c) << c.error().ToString();
  return std::move(*c);
}

const Bytes kSeed = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};

bool Contains(const Bytes& haystack, const Bytes& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST(TotpSeedCipher, SealsAndOpensForTheSameUser) {
  TotpSeedCipher cipher = Cipher();
  auto sealed = cipher.Seal(kSeed, "alice");
  ASSERT_TRUE(sealed) << sealed.error().ToString();
  EXPECT_TRUE(TotpSeedCipher::IsSealed(*sealed));
  EXPECT_FALSE(Contains(*sealed, kSeed)) << "the seed must not appear in what is stored";
  EXPECT_EQ(sealed->size(), 4 + 12 + kSeed.size() + 16);
  auto opened = cipher.Open(*sealed, "alice");
  ASSERT_TRUE(opened) << opened.error().ToString();
  EXPECT_EQ(*opened, kSeed);
  // A second cipher from the same KEK (the next start of aloftd) opens it too.
  EXPECT_EQ(*Cipher().Open(*sealed, "alice"), kSeed);
}

TEST(TotpSeedCipher, EverySealUsesAFreshNonce) {
  TotpSeedCipher cipher = Cipher();
  EXPECT_NE(*cipher.Seal(kSeed, "alice"), *cipher.Seal(kSeed, "alice"));
}

TEST(TotpSeedCipher, AnyChangedByteFailsVerification) {
  TotpSeedCipher cipher = Cipher();
  const Bytes sealed = *cipher.Seal(kSeed, "alice");
  // Past the magic: nonce, ciphertext and tag are all authenticated.
  for (std::size_t i = 4; i < sealed.size(); ++i) {
    Bytes tampered = sealed;
    tampered[i] ^= 0x01;
    auto opened = cipher.Open(tampered, "alice");
    ASSERT_FALSE(opened) << "byte " << i;
    EXPECT_EQ(opened.error().code(), Errc::kVerificationFailed) << "byte " << i;
  }
  Bytes truncated(sealed.begin(), sealed.end() - 1);
  EXPECT_FALSE(cipher.Open(truncated, "alice"));
}

TEST(TotpSeedCipher, ASeedMovedToAnotherUserOrKekDoesNotOpen) {
  const Bytes sealed = *Cipher().Seal(kSeed, "alice");
  auto moved = Cipher().Open(sealed, "mallory");
  ASSERT_FALSE(moved);
  EXPECT_EQ(moved.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(moved.error().message().find("another operator"), std::string::npos);
  auto other = Cipher(kOtherKek).Open(sealed, "alice");
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), Errc::kVerificationFailed);
}

TEST(TotpSeedCipher, PlaintextAndJunkAreNotSealedSeeds) {
  EXPECT_FALSE(TotpSeedCipher::IsSealed(kSeed));
  EXPECT_FALSE(TotpSeedCipher::IsSealed(Bytes{}));
  EXPECT_FALSE(TotpSeedCipher::IsSealed(ToBytes("ATS1")));
  auto opened = Cipher().Open(kSeed, "alice");
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code(), Errc::kCorrupt);
  auto junk = Cipher().Open(ToBytes("ATS1" + std::string(40, 'x')), "alice");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code(), Errc::kVerificationFailed);
}

TEST(TotpSeedCipher, RefusesAShortKekAndAnEmptySeed) {
  auto short_kek = TotpSeedCipher::Create("too short");
  ASSERT_FALSE(short_kek);
  EXPECT_EQ(short_kek.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(Cipher().Seal(Bytes{}, "alice").error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace aloft::server::operators
