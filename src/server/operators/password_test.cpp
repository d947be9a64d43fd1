#include "server/operators/password.hpp"

#include <gtest/gtest.h>

#include <set>

namespace aloft::server::operators {
namespace {

// A Result's value, or nullopt for an error, so that EXPECT_EQ can compare it.
template <class T>
std::optional<T> ValueOf(const Result<T>& r) {
  return r ? std::optional<T>(*r) : std::nullopt;
}

// Cheap parameters: the tests check behaviour, not cost.
PasswordHashParams Cheap() { return PasswordHashParams{1, 64, 1, 16, 32}; }

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  auto hash = HashPassword("correct horse battery", Cheap());
  ASSERT_TRUE(hash) << hash.error().ToString();
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=64,t=1,p=1$")) << *hash;
  EXPECT_EQ(ValueOf(VerifyPassword("correct horse battery", *hash)), true);
  EXPECT_EQ(ValueOf(VerifyPassword("correct horse batterY", *hash)), false);
  EXPECT_EQ(ValueOf(VerifyPassword("", *hash)), false);
  EXPECT_EQ(ValueOf(VerifyPassword(std::string(2000, 'a'), *hash)), false);
}

TEST(PasswordTest, EachHashHasItsOwnSalt) {
  auto a = HashPassword("correct horse battery", Cheap());
  auto b = HashPassword("correct horse battery", Cheap());
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
}

TEST(PasswordTest, DefaultsAreRfc9106sSecondRecommendation) {
  PasswordHashParams p;
  EXPECT_EQ(p.time_cost, 3u);
  EXPECT_EQ(p.memory_kib, 64u * 1024u);
  EXPECT_EQ(p.parallelism, 1u);
}

TEST(PasswordTest, UnreadableStoredHashIsCorruptNotAMismatch) {
  for (const char* bad : {"", "plaintext", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
                          "$argon2id$v=19$m=64,t=1,p=1$!!!$???"}) {
    auto r = VerifyPassword("correct horse battery", bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Errc::kCorrupt) << bad;
  }
}

TEST(PasswordTest, NeedsRehashWhenParametersChange) {
  auto hash = HashPassword("correct horse battery", Cheap());
  ASSERT_TRUE(hash);
  EXPECT_FALSE(NeedsRehash(*hash, Cheap()));
  PasswordHashParams stronger = Cheap();
  stronger.time_cost = 2;
  EXPECT_TRUE(NeedsRehash(*hash, stronger));
}

TEST(PasswordTest, PolicyCountsCharactersAndBoundsBytes) {
  EXPECT_FALSE(CheckPasswordPolicy("elevenchars", "alice"));
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars", "alice"));
  // 12 code points, 24 bytes: long enough.
  EXPECT_TRUE(CheckPasswordPolicy("ääääääääääää", "alice"));
  // 11 code points of two bytes each: too short, whatever the byte count.
  EXPECT_FALSE(CheckPasswordPolicy("ööööööööööö", "alice"));
  EXPECT_TRUE(CheckPasswordPolicy(std::string(kMaxPasswordBytes, 'x'), "alice"));
  auto too_long = CheckPasswordPolicy(std::string(kMaxPasswordBytes + 1, 'x'), "alice");
  ASSERT_FALSE(too_long);
  EXPECT_EQ(too_long.error().code(), Errc::kInvalidArgument);
  EXPECT_FALSE(CheckPasswordPolicy("alice.example", "alice.example"));
}

TEST(PasswordTest, OneTimePasswordsAreUniqueAndPassThePolicy) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto otp = GenerateOneTimePassword();
    ASSERT_TRUE(otp);
    ASSERT_EQ(otp->size(), 23u) << *otp;
    for (std::size_t j = 0; j < otp->size(); ++j) {
      char c = (*otp)[j];
      if (j % 6 == 5) {
        EXPECT_EQ(c, '-') << *otp;
      } else {
        EXPECT_NE(std::string_view("abcdefghjkmnpqrstuvwxyz23456789").find(c), std::string::npos)
            << *otp;
      }
    }
    EXPECT_TRUE(CheckPasswordPolicy(*otp, "alice"));
    EXPECT_TRUE(seen.insert(*otp).second);
  }
}

}  // namespace
}  // namespace aloft::server::operators
