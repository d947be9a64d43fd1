#include "core/crypto/hash.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/base/hex.hpp"

namespace aloft::core::crypto {
namespace {

std::string HexDigest(HashAlgorithm alg, std::string_view text) {
  return HexEncode(Digest(alg, AsBytes(text)));
}

constexpr std::string_view k448Bits = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

// FIPS 180-2 appendix B / C vectors.
TEST(HashTest, Sha256KnownAnswers) {
  EXPECT_EQ(HexDigest(HashAlgorithm::kSha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexDigest(HashAlgorithm::kSha256, ""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexDigest(HashAlgorithm::kSha256, k448Bits),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(AsBytes("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256(AsBytes("abc"))), Sha256Hex(AsBytes("abc")));
}

TEST(HashTest, Sha512KnownAnswers) {
  EXPECT_EQ(HexDigest(HashAlgorithm::kSha512, "abc"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(HexDigest(HashAlgorithm::kSha512, ""),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
            "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e");
  EXPECT_EQ(HexDigest(HashAlgorithm::kSha512, k448Bits),
            "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
            "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445");
}

TEST(HashTest, MillionAsStreamed) {
  Hasher hasher(HashAlgorithm::kSha256);
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) hasher.Update(AsBytes(chunk));
  EXPECT_EQ(HexEncode(hasher.Finish()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HashTest, StreamingEqualsOneShotForEverySplit) {
  Bytes message(200);
  for (std::size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<std::uint8_t>(i * 31 + 7);
  }
  ByteView all(message);
  for (HashAlgorithm alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    Bytes expected = Digest(alg, all);
    ASSERT_EQ(expected.size(), DigestSize(alg));
    for (std::size_t i = 0; i <= all.size(); i += 3) {
      for (std::size_t j = i; j <= all.size(); j += 7) {
        Hasher hasher(alg);
        hasher.Update(all.subspan(0, i));
        hasher.Update(all.subspan(i, j - i));
        hasher.Update({});  // empty updates are harmless
        hasher.Update(all.subspan(j));
        ASSERT_EQ(hasher.Finish(), expected) << "split at " << i << ", " << j;
      }
    }
  }
}

TEST(HashTest, HasherMoves) {
  Hasher first(HashAlgorithm::kSha512);
  first.Update(AsBytes("ab"));
  Hasher second(std::move(first));
  second.Update(AsBytes("c"));
  Hasher third(HashAlgorithm::kSha256);
  third = std::move(second);
  EXPECT_EQ(third.algorithm(), HashAlgorithm::kSha512);
  EXPECT_EQ(third.Finish(), Digest(HashAlgorithm::kSha512, AsBytes("abc")));
}

TEST(HashTest, AlgorithmNames) {
  for (HashAlgorithm alg : {HashAlgorithm::kSha256, HashAlgorithm::kSha512}) {
    auto parsed = ParseHashAlgorithm(HashAlgorithmName(alg));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, alg);
  }
  EXPECT_EQ(HashAlgorithmName(HashAlgorithm::kSha256), "sha256");
  EXPECT_EQ(DigestSize(HashAlgorithm::kSha256), 32u);
  EXPECT_EQ(DigestSize(HashAlgorithm::kSha512), 64u);
  for (std::string_view bad : {"md5", "sha1", "SHA256", "sha-256", "sha384", "", "sha256 "}) {
    auto parsed = ParseHashAlgorithm(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), Errc::kUnsupported);
  }
}

TEST(HashTest, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual({}, {}));
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("xbc")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("ab")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes(""), AsBytes("a")));
}

TEST(HashTest, RandomBytes) {
  Bytes a(64), b(64);
  ASSERT_TRUE(RandomBytes(a));
  ASSERT_TRUE(RandomBytes(b));
  EXPECT_NE(a, b);
  EXPECT_NE(a, Bytes(64, 0));
  ASSERT_TRUE(RandomBytes({}));
}

}  // namespace
TEST(HashTest, HmacSha256Rfc4231Case2Style) {
  // RFC 4231 test case 4 (key 0x01..0x19, data 0xcd x 50).
  Bytes key;
  for (std::uint8_t i = 1; i <= 25; ++i) key.push_back(i);
  Bytes data(50, 0xcd);
  auto mac = HmacSha256(key, data);
  ASSERT_TRUE(mac);
  EXPECT_EQ(HexEncode(*mac), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  EXPECT_FALSE(HmacSha256(Bytes(8, 1), data)) << "short keys are refused";
}

// The keyed form gives the RFC's answer too, keeps giving it (each Mac works on a copy of the
// keyed context), agrees with the one-shot form on other inputs, and is safe across threads.
TEST(HashTest, HmacSha256KeyMatchesTheOneShotForm) {
  Bytes key;
  for (std::uint8_t i = 1; i <= 25; ++i) key.push_back(i);
  auto keyed = HmacSha256Key::Create(key);
  ASSERT_TRUE(keyed) << keyed.error().ToString();
  for (int round = 0; round < 2; ++round) {
    auto mac = keyed->Mac(Bytes(50, 0xcd));
    ASSERT_TRUE(mac);
    EXPECT_EQ(HexEncode(*mac), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  }
  for (const std::string_view text : {"", "a", "alt1.eyJleHAiOiIyMDI2In0"}) {
    EXPECT_EQ(*keyed->Mac(AsBytes(text)), *HmacSha256(key, AsBytes(text))) << text;
  }
  EXPECT_NE(*keyed->Mac(AsBytes("a")), *HmacSha256(Bytes(25, 9), AsBytes("a")));
  EXPECT_EQ(HmacSha256Key::Create(Bytes(8, 1)).error().code(), Errc::kInvalidArgument);

  const Bytes expected = *HmacSha256(key, AsBytes("shared"));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        auto mac = keyed->Mac(AsBytes("shared"));
        if (!mac || *mac != expected) ++mismatches;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace aloft::core::crypto
