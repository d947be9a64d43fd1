#include "server/operators/totp.hpp"

#include <gtest/gtest.h>

#include "testing/fake_clock.hpp"

namespace aloft::server::operators {
namespace {

// RFC 6238 appendix B's SHA-1 seed.
const Bytes kSeed = ToBytes("12345678901234567890");

Timestamp At(std::int64_t unix) { return Timestamp(std::chrono::seconds(unix)); }

TEST(TotpTest, Rfc6238Sha1Vectors) {
  // Appendix B lists 8 digits; 6-digit codes are the last six (the same truncation mod 10^6).
  const std::pair<std::int64_t, const char*> vectors[] = {
      {59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
      {1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
  };
  for (const auto& [unix, code] : vectors) {
    auto got = TotpCode(kSeed, TotpStep(At(unix)));
    ASSERT_TRUE(got) << got.error().ToString();
    EXPECT_EQ(*got, code) << "t=" << unix;
  }
}

TEST(TotpTest, StepsAreThirtySeconds) {
  EXPECT_EQ(TotpStep(At(0)), 0);
  EXPECT_EQ(TotpStep(At(29)), 0);
  EXPECT_EQ(TotpStep(At(30)), 1);
  EXPECT_EQ(TotpStep(At(59)), 1);
}

TEST(TotpTest, AcceptsOneStepEitherWayAndNoMore) {
  testing::FakeClock clock(At(1111111111));
  std::int64_t now = TotpStep(clock.Now());
  for (std::int64_t delta : {-1, 0, 1}) {
    auto code = TotpCode(kSeed, now + delta);
    ASSERT_TRUE(code);
    auto matched = MatchTotp(kSeed, *code, clock.Now(), -1);
    ASSERT_TRUE(matched);
    ASSERT_TRUE(*matched) << delta;
    EXPECT_EQ(**matched, now + delta);
  }
  for (std::int64_t delta : {-2, 2}) {
    auto code = TotpCode(kSeed, now + delta);
    ASSERT_TRUE(code);
    EXPECT_FALSE(*MatchTotp(kSeed, *code, clock.Now(), -1)) << delta;
  }
  // The code of the current step stops working a little over 30 s later.
  auto code = *TotpCode(kSeed, now);
  clock.Advance(std::chrono::seconds(30));
  EXPECT_TRUE(*MatchTotp(kSeed, code, clock.Now(), -1));
  clock.Advance(std::chrono::seconds(30));
  EXPECT_FALSE(*MatchTotp(kSeed, code, clock.Now(), -1));
}

TEST(TotpTest, AUsedStepCannotBeUsedAgain) {
  Timestamp now = At(1234567890);
  std::int64_t step = TotpStep(now);
  auto code = *TotpCode(kSeed, step);
  EXPECT_EQ(**MatchTotp(kSeed, code, now, step - 1), step);
  EXPECT_FALSE(*MatchTotp(kSeed, code, now, step)) << "replay of the same step";
  EXPECT_FALSE(*MatchTotp(kSeed, *TotpCode(kSeed, step - 1), now, step)) << "an older step";
  EXPECT_TRUE(*MatchTotp(kSeed, *TotpCode(kSeed, step + 1), now, step)) << "a later step is fine";
}

TEST(TotpTest, MalformedCodesNeverMatch) {
  Timestamp now = At(59);
  for (const char* bad : {"", "28708", "2870820", "28708a", " 287082", "287082\n", "+87082"}) {
    auto matched = MatchTotp(kSeed, bad, now, -1);
    ASSERT_TRUE(matched);
    EXPECT_FALSE(*matched) << bad;
  }
  EXPECT_FALSE(*MatchTotp(ToBytes("another secret value"), "287082", now, -1));
}

TEST(TotpTest, NewSecretsAre160RandomBits) {
  auto a = NewTotpSecret();
  auto b = NewTotpSecret();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 20u);
  EXPECT_NE(*a, *b);
}

TEST(TotpTest, Base32MatchesRfc4648WithoutPadding) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "MY"},
      {"fo", "MZXQ"},
      {"foo", "MZXW6"},
      {"foob", "MZXW6YQ"},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI"},
  };
  for (const auto& [in, out] : vectors) EXPECT_EQ(Base32Encode(AsBytes(in)), out) << in;
  EXPECT_EQ(Base32Encode(kSeed), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(TotpTest, OtpauthUriIsWhatAuthenticatorAppsRead) {
  EXPECT_EQ(OtpauthUri("Aloft OTA", "alice", kSeed),
            "otpauth://totp/Aloft%20OTA:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            "&issuer=Aloft%20OTA&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace aloft::server::operators
