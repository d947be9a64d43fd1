#include "core/crypto/keys.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/openssl/ossl.hpp"

namespace aloft::core::crypto {
namespace {

using codec::Json;

constexpr std::array<KeyType, 3> kAllTypes = {KeyType::kEd25519, KeyType::kEcdsaP256,
                                              KeyType::kRsa};

// Key generation (RSA 3072 above all) is slow under sanitizers, so every test shares these:
// two independent keys per type, made once.
const PrivateKey& TestKey(KeyType type, int which = 0) {
  static const std::array<std::array<PrivateKey, 3>, 2> keys = [] {
    std::array<std::array<PrivateKey, 3>, 2> made;
    for (auto& set : made) {
      for (KeyType t : kAllTypes)
        set[static_cast<std::size_t>(t)] = PrivateKey::Generate(t).value();
    }
    return made;
  }();
  return keys[static_cast<std::size_t>(which)][static_cast<std::size_t>(type)];
}

std::string SchemeOf(KeyType type) {
  switch (type) {
    case KeyType::kEd25519:
      return "ed25519";
    case KeyType::kEcdsaP256:
      return "ecdsa-sha2-nistp256";
    case KeyType::kRsa:
      return "rsassa-pss-sha256";
  }
  return "";
}

Bytes RandomMessage(std::size_t size) {
  Bytes out(size);
  EXPECT_TRUE(RandomBytes(out));
  return out;
}

// RFC 8032 section 7.1, TEST 1.
constexpr std::string_view kRfcPublicHex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
constexpr std::string_view kRfcSignatureHex =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9"
    "b46bd25bf5f0595bbe24655141438e7a100b";
// The RFC's secret 9d61b19d...7f60 as PKCS#8 (302e020100300506032b657004220420 || secret).
constexpr std::string_view kRfcPrivatePem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
// printf '%s' '{"keytype":"ed25519","keyval":{"public":"d75a...511a"},"scheme":"ed25519"}' |
//   sha256sum
constexpr std::string_view kRfcKeyId =
    "74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916";

// Made with python-cryptography 48 (what securesystemslib uses), signing "aloft interop".
constexpr std::string_view kInteropMessage = "aloft interop";
constexpr std::string_view kPyEcdsaPublic =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECOndCcqLT8E7WRe+qh+vwuIYj9Tb\n"
    "F/Eu6gIjsWVxaL820xFRUIh7tM+EIcfIOGVTeA46haZgPV69JyOxAaFFQg==\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kPyEcdsaSignatureHex =
    "304502203803663017f71e7882052b64698e576354b9728336459e8f4bb6c8752578cae2022100e9b6263bd57c23"
    "19e2662a2243a48a9e23cfc8f4e7ce6f61650b898491fa5007";
constexpr std::string_view kPyRsaPublic =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApZ5EnUDv8iCLX2oTaq1e\n"
    "nQGs+H9U0uxEhX3R8kdDIePJcByZunRb1bKoNqfm4X5XODIvV5oORqMU4fI7QbSp\n"
    "OzqcE4FxsT/wO2Bt+gknaTBicrFEmU2kNonbv/Ln+pkd9cjifto8AmBtJJiuS36M\n"
    "mNDBy0dz/EiYVdmNVi2yru7D2420eMa3HJJXeo/g1l+ED9w97394dgXACCJwuHRl\n"
    "jDmLsLVrMm2k/scSdzl45b7Yv3EPdRBnt4kzqKZAf8Qmi10JkMUq7YNHcoLTjGPn\n"
    "ilvwuaTqlyMhJMKvPlyUv3ASw43K/+wnpUgoea2a6wE1JFslM1z1w2d/mQyH2S/h\n"
    "5QIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
// PSS salt length MAX_LENGTH (222 bytes for this key), then 32.
constexpr std::string_view kPyRsaSignatureMaxSaltHex =
    "1f7885e2bc4889c05ec9573a6bbdec7916adf8aa1bbcf54f5b8d3424b90b281f63e49d6b658de80ca45f665f9a3b"
    "15f3e742b67f3637d6e081716c2bcde203e899424341b8866bc65bfaa94038c2edc8b462e8a27730b52a3ca883d6"
    "0f88cb1551c3ca3a24eb6414a88c523f1c4e040b9e2a8cd2eff0bca943e82b89e0f8525a005e9249b8681e591809"
    "8903d0ad51a46a1e24f465e1c552d5982c7f4d6e772e70b65d0db17d8e13ceb4b9b545a388be9895d38a48285f53"
    "800b55fc9aa65ca0d48379bb5c43fdd5c8a7a0f78545b1ac691684cbd2c692a7caab6dd3680c333394da8c9cb1ca"
    "8eb16b0d74e5cf05416aace292132f0d57e9d9b2c3c8dc5f2b5d";
constexpr std::string_view kPyRsaSignatureSalt32Hex =
    "6c05aada14be89fad0f6dd3f71f02cc63353d7f980ba99de8b3e27785572e48a83f6fc6ccd9314e565161dec63fd"
    "1d3d8192444cb3edd697457ad8e05138f2b16e0c088f94b4f775d85d01089cc1da729681892fd6276707e0ffe9c9"
    "e666c21001e2029b91b0f3a9843c4bb9357f618ba52c5a855e2d8da1f41ef7040823416d13332991de581cf57f1f"
    "b345592b0dfb2ec1d32b5569d5723876f0e39c197f55eb55827a7a3ee7922de141469ce31cb68ccca177e0e44576"
    "78320e3a173d31a77b0a9f5f0499092587f81f45a55ea2fc997084e47ab1825823688ec8fac77831aaeccd574b92"
    "3fcc850d2f8017d17e1e659c25870d0bc902e0f7b3161af9f293";
// python-cryptography PKCS8 + BestAvailableEncryption(b"hunter2"), and its public half.
constexpr std::string_view kPyEncryptedPem =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIH0MF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBAFUwborbvs3xILQIqO\n"
    "z0idAgIIADAMBggqhkiG9w0CCQUAMB0GCWCGSAFlAwQBKgQQAZg5O+BWWPlrfGWa\n"
    "fcy3igSBkHLaJ/vq4TluMYSYhBEkbxNO/KjICyUsY+X7pFBC1VdShXfrQV81a6Og\n"
    "31Bu7wV9kFUzOmhLaT8eiIsMjwwP1z8XAS0W/LO02bCjHVeYlNtRWW/V1NYkJuzT\n"
    "RBFjGoOJAvyQL3BtMIiKhr3vSmtKsWf9/5/xd81ijE4NJAdDXH+//+oS3GuY2BIf\n"
    "E/5VVtoCzg==\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";
constexpr std::string_view kPyEncryptedPublic =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEeHZQg37LN/fxzzEjnu2VeStfMiq0\n"
    "LmtubpFt492s8JzNNG0xBjzKDiAh+dINf8HMqsIXBjnaQTPgh4ZiRXC83Q==\n"
    "-----END PUBLIC KEY-----\n";

// Keys TUF must refuse (made with `openssl genpkey`).
constexpr std::string_view kRsa1024Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDMz6yjPraM+wT//892Urdfa01e\n"
    "lH+VJtZuoYx2J7oDYN5ouGsAzWP/bshZYlCn/8KFUs6D0m8YaxDbcFuUATH2f/0M\n"
    "SD/aIQ5SZzNMeoV/y0cZ11i6o8bFPSfWtQ5s61GbhAE7xsYyBdZyrwh7FyioUqX9\n"
    "jDlFUyfoGWsXFZi1lQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kRsa1024Private =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMzPrKM+toz7BP//\n"
    "z3ZSt19rTV6Uf5Um1m6hjHYnugNg3mi4awDNY/9uyFliUKf/woVSzoPSbxhrENtw\n"
    "W5QBMfZ//QxIP9ohDlJnM0x6hX/LRxnXWLqjxsU9J9a1DmzrUZuEATvGxjIF1nKv\n"
    "CHsXKKhSpf2MOUVTJ+gZaxcVmLWVAgMBAAECgYAaKd1v7S78y4RT/6XNA7wRIG/9\n"
    "yRKTRybVcyWyYljM3a8LyaNBsvs3Qjutz3VmQLHkvjNLe7JdeC/rGGtaeNyc2ens\n"
    "HrIL0jHIuyo6+TKq4kOytx9EAfK5x88iHEA/J8PwkfGLGKMMKMg5hkLQONAWPBy9\n"
    "/MFpWeKGp6yfRuslgQJBAPztUht8efpnu3b0zrNzAFm9iW4gfFrmG6juaNdJt8UH\n"
    "HcoaR7F0H28Elnd+Biump2jKQ9QePXtOdHcUSlVWF2kCQQDPTLLwhOtV0HQM5aCI\n"
    "J0nXlt2/olCYLL/DKhTXdVhQZOZ9iZjk0b4TkRYd95sXxocVjh16971/qneaaS3C\n"
    "Q/NNAkBJNQOz8vZ3VPj8uGTvqdSrJOIXXw2/XaUZ40+zKKIpRCMKMUsZAMxsXL6U\n"
    "fYSZs9X2zbyOM+aFvzKUmOnfA1kpAkEAiqhG2FJQBypTNX0yj1+YKLgkwtWTCvaD\n"
    "ncs7/ZHj7IJRGY870XHprbTSEmFYP+Lu4CAa3/Fts0MWlRXdIZ/J0QJAUDdso2VV\n"
    "plL6kbJowdrWXRlwf9MvxnG+Dtgag9pXcVbWnUCgbZesmvFdZmVWy4yykbDMud+b\n"
    "nMnaOuMSW0RQPQ==\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kP384Public =
    "-----BEGIN PUBLIC KEY-----\n"
    "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEjTerVgUJGQMOIdmQ/4q+vmwrSMD/wpmq\n"
    "CdL/4GlcSvmkVW0jy3itMiAT5Z6yKS24PTWJkZ+rKaOWv3sduCuQiDoOmYeoopyc\n"
    "CgOrJOwjifJdVhLwuO1AAnwpkakvAWKw\n"
    "-----END PUBLIC KEY-----\n";
constexpr std::string_view kP384Private =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDDuu/8KqIgc5g6dtM2n\n"
    "NR3XwByjeImpLWsKIPonOQeWJbce77qvo5uuI8ygvJFYMgahZANiAASNN6tWBQkZ\n"
    "Aw4h2ZD/ir6+bCtIwP/CmaoJ0v/gaVxK+aRVbSPLeK0yIBPlnrIpLbg9NYmRn6sp\n"
    "o5a/ex24K5CIOg6Zh6iinJwKA6sk7COJ8l1WEvC47UACfCmRqS8BYrA=\n"
    "-----END PRIVATE KEY-----\n";
constexpr std::string_view kX25519Private =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VuBCIEIDiEp+IdIEwLNaxTQZEGh/YoBD5LMBMrgj+U7OiRI69D\n"
    "-----END PRIVATE KEY-----\n";

void ExpectCode(const Status& status, Errc code) {
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code(), code) << status.error().ToString();
}
template <class T>
void ExpectCode(const Result<T>& result, Errc code) {
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), code) << result.error().ToString();
}

Bytes Unhex(std::string_view hex) { return HexDecode(hex).value(); }

// ---------------------------------------------------------------------------------------------
// Names and parsing

TEST(KeyTypeTest, NamesRoundTrip) {
  for (KeyType type : kAllTypes) {
    auto parsed = ParseKeyType(KeyTypeName(type));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(KeyTypeName(KeyType::kEcdsaP256), "ecdsa");
  EXPECT_EQ(ParseKeyType("ecdsa-sha2-nistp256").value(), KeyType::kEcdsaP256);
  ExpectCode(ParseKeyType("dsa"), Errc::kUnsupported);
  ExpectCode(ParseKeyType("ED25519"), Errc::kUnsupported);
  ExpectCode(ParseKeyType(""), Errc::kUnsupported);
}

TEST(PublicKeyTest, Rfc8032Test1Verifies) {
  auto key = PublicKey::FromTuf("ed25519", "ed25519", kRfcPublicHex);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->type(), KeyType::kEd25519);
  EXPECT_TRUE(key->Verify({}, Unhex(kRfcSignatureHex)));
  ExpectCode(key->Verify(AsBytes("x"), Unhex(kRfcSignatureHex)), Errc::kVerificationFailed);
}

TEST(PrivateKeyTest, Rfc8032Test1Signs) {
  auto key = PrivateKey::FromPem(kRfcPrivatePem);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->type(), KeyType::kEd25519);
  EXPECT_EQ(key->Public().public_value(), kRfcPublicHex);
  auto signature = key->Sign({});
  ASSERT_TRUE(signature);
  EXPECT_EQ(HexEncode(*signature), kRfcSignatureHex);
  EXPECT_EQ(key->KeyId(), kRfcKeyId);
}

TEST(PublicKeyTest, KeyIdMatchesSecuresystemslib) {
  auto key = PublicKey::FromTuf("ed25519", "ed25519", kRfcPublicHex);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->ComputeKeyId(), kRfcKeyId);
  EXPECT_EQ(key->ComputeKeyId(), key->ComputeKeyId());
}

TEST(PublicKeyTest, FromTufJsonKeepsUnknownMembers) {
  Json json = Json::Object{
      {"keytype", "ed25519"},
      {"scheme", "ed25519"},
      {"keyid_hash_algorithms", Json::Array{"sha256", "sha512"}},
      {"keyval", Json::Object{{"public", Json(kRfcPublicHex)}}},
      {"x-custom", 7},
  };
  auto key = PublicKey::FromTufJson(json);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->ToTufJson(), json);
  // The key ID covers only keytype, scheme and keyval.
  EXPECT_EQ(key->ComputeKeyId(), kRfcKeyId);
  EXPECT_EQ(key->keytype(), "ed25519");
  EXPECT_EQ(key->scheme(), "ed25519");
  EXPECT_EQ(key->public_value(), kRfcPublicHex);
}

TEST(PublicKeyTest, FromTufBuildsCanonicalJson) {
  auto key = PublicKey::FromTuf("ed25519", "ed25519", kRfcPublicHex);
  ASSERT_TRUE(key);
  EXPECT_EQ(codec::CanonicalJson(key->ToTufJson()), R"({"keytype":"ed25519","keyval":{"public":")" +
                                                        std::string(kRfcPublicHex) +
                                                        R"("},"scheme":"ed25519"})");
  auto again = PublicKey::FromTufJson(key->ToTufJson());
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->SameKeyAs(*key));
  EXPECT_EQ(again->ComputeKeyId(), key->ComputeKeyId());
}

TEST(PublicKeyTest, FromTufJsonRejectsMalformedObjects) {
  const Json good_keyval = Json::Object{{"public", Json(kRfcPublicHex)}};
  std::vector<Json> bad = {
      Json("ed25519"),
      Json(Json::Array{}),
      Json::Object{{"scheme", "ed25519"}, {"keyval", good_keyval}},
      Json::Object{{"keytype", 1}, {"scheme", "ed25519"}, {"keyval", good_keyval}},
      Json::Object{{"keytype", "ed25519"}, {"keyval", good_keyval}},
      Json::Object{{"keytype", "ed25519"}, {"scheme", "ed25519"}},
      Json::Object{{"keytype", "ed25519"}, {"scheme", "ed25519"}, {"keyval", Json(kRfcPublicHex)}},
      Json::Object{{"keytype", "ed25519"}, {"scheme", "ed25519"}, {"keyval", Json::Object{}}},
      Json::Object{
          {"keytype", "ed25519"}, {"scheme", "ed25519"}, {"keyval", Json::Object{{"public", 5}}}},
  };
  for (const Json& json : bad) ExpectCode(PublicKey::FromTufJson(json), Errc::kInvalidArgument);
}

TEST(PublicKeyTest, UnsupportedKeytypeOrSchemeIsUnsupported) {
  const std::string ecdsa_pem = TestKey(KeyType::kEcdsaP256).Public().public_value();
  const std::string rsa_pem = TestKey(KeyType::kRsa).Public().public_value();
  ExpectCode(PublicKey::FromTuf("ed25519", "ecdsa-sha2-nistp256", kRfcPublicHex),
             Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("ed25519", "", kRfcPublicHex), Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp384", ecdsa_pem), Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("ecdsa", "ed25519", ecdsa_pem), Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("rsa", "rsassa-pss-sha512", rsa_pem), Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("rsa", "rsa-pkcs1v15-sha256", rsa_pem), Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("dsa", "dsa-sha256", rsa_pem), Errc::kUnsupported);
  ExpectCode(PublicKey::FromTuf("sphincs", "sphincs-shake-128s", "00"), Errc::kUnsupported);
}

TEST(PublicKeyTest, MalformedMaterialIsInvalidArgument) {
  const std::string ecdsa_pem = TestKey(KeyType::kEcdsaP256).Public().public_value();
  const std::string rsa_pem = TestKey(KeyType::kRsa).Public().public_value();
  std::string non_hex(kRfcPublicHex);
  non_hex[0] = 'g';
  const std::vector<std::pair<std::string, std::string>> ed25519_bad = {
      {"", "empty"},
      {std::string(kRfcPublicHex.substr(2)), "short"},
      {std::string(kRfcPublicHex) + "00", "long"},
      {non_hex, "non-hex"},
      {ecdsa_pem, "PEM"},
  };
  for (const auto& [value, why] : ed25519_bad) {
    SCOPED_TRACE(why);
    ExpectCode(PublicKey::FromTuf("ed25519", "ed25519", value), Errc::kInvalidArgument);
  }
  const std::string ec = "ecdsa";
  const std::string ec_scheme = "ecdsa-sha2-nistp256";
  std::string corrupted = ecdsa_pem;
  corrupted[40] = corrupted[40] == 'A' ? 'B' : 'A';
  std::string truncated_body = ecdsa_pem;
  truncated_body.erase(30, 8);
  std::vector<std::string> pem_bad = {
      "",
      std::string(kRfcPublicHex),
      "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
      "-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n",
      corrupted,
      truncated_body,
      ecdsa_pem + ecdsa_pem,  // two blocks
      ecdsa_pem + "trailing",
      "leading\n" + ecdsa_pem,
      rsa_pem,  // an RSA key under keytype ecdsa
      std::string(kP384Public),
      std::string(kRsa1024Private),
  };
  for (const std::string& value : pem_bad) {
    SCOPED_TRACE(value);
    ExpectCode(PublicKey::FromTuf(ec, ec_scheme, value), Errc::kInvalidArgument);
  }
  ExpectCode(PublicKey::FromTuf("rsa", "rsassa-pss-sha256", ecdsa_pem), Errc::kInvalidArgument);
  ExpectCode(PublicKey::FromTuf("rsa", "rsassa-pss-sha256", kRsa1024Public),
             Errc::kInvalidArgument);
}

TEST(PublicKeyTest, PemWhitespaceVariantsAreAccepted) {
  const PublicKey& original = TestKey(KeyType::kEcdsaP256).Public();
  std::string pem = original.public_value();
  ASSERT_EQ(pem.back(), '\n');
  std::string no_newline = pem.substr(0, pem.size() - 1);
  for (const std::string& value : {pem, no_newline, pem + "\n"}) {
    auto key = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", value);
    ASSERT_TRUE(key) << key.error().ToString();
    EXPECT_TRUE(key->SameKeyAs(original));
    EXPECT_EQ(key->public_value(), value);  // kept exactly as given
  }
}

TEST(PublicKeyTest, LegacyEcdsaKeytypeIsKeptVerbatim) {
  const PrivateKey& signer = TestKey(KeyType::kEcdsaP256);
  auto key = PublicKey::FromTuf("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256",
                                signer.Public().public_value());
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->type(), KeyType::kEcdsaP256);
  EXPECT_EQ(key->keytype(), "ecdsa-sha2-nistp256");
  EXPECT_TRUE(key->SameKeyAs(signer.Public()));
  // The key ID covers the spelling, so the legacy name gives a different one.
  EXPECT_NE(key->ComputeKeyId(), signer.KeyId());
  auto signature = signer.Sign(AsBytes("legacy"));
  ASSERT_TRUE(signature);
  EXPECT_TRUE(key->Verify(AsBytes("legacy"), *signature));
}

TEST(PublicKeyTest, PythonCryptographySignaturesVerify) {
  auto ecdsa = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kPyEcdsaPublic);
  ASSERT_TRUE(ecdsa) << ecdsa.error().ToString();
  EXPECT_TRUE(ecdsa->Verify(AsBytes(kInteropMessage), Unhex(kPyEcdsaSignatureHex)));
  ExpectCode(ecdsa->Verify(AsBytes("aloft interoP"), Unhex(kPyEcdsaSignatureHex)),
             Errc::kVerificationFailed);

  auto rsa = PublicKey::FromTuf("rsa", "rsassa-pss-sha256", kPyRsaPublic);
  ASSERT_TRUE(rsa) << rsa.error().ToString();
  // Any salt length verifies.
  EXPECT_TRUE(rsa->Verify(AsBytes(kInteropMessage), Unhex(kPyRsaSignatureMaxSaltHex)));
  EXPECT_TRUE(rsa->Verify(AsBytes(kInteropMessage), Unhex(kPyRsaSignatureSalt32Hex)));
  ExpectCode(rsa->Verify(AsBytes("aloft interoP"), Unhex(kPyRsaSignatureSalt32Hex)),
             Errc::kVerificationFailed);
}

TEST(PublicKeyTest, EcdsaSignatureWithTrailingBytesFails) {
  auto key = PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kPyEcdsaPublic);
  ASSERT_TRUE(key);
  Bytes signature = Unhex(kPyEcdsaSignatureHex);
  signature.push_back(0);
  ExpectCode(key->Verify(AsBytes(kInteropMessage), signature), Errc::kVerificationFailed);
}

TEST(PublicKeyTest, DefaultConstructedKeyVerifiesNothing) {
  PublicKey empty;
  ExpectCode(empty.Verify(AsBytes("m"), Unhex(kRfcSignatureHex)), Errc::kVerificationFailed);
  EXPECT_FALSE(empty.SameKeyAs(empty));
  EXPECT_FALSE(empty.SameKeyAs(TestKey(KeyType::kEd25519).Public()));
  PrivateKey no_key;
  ExpectCode(no_key.Sign(AsBytes("m")), Errc::kInvalidArgument);
  ExpectCode(no_key.ToPem(), Errc::kInvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Per key type

class KeyTypeSuite : public ::testing::TestWithParam<KeyType> {
 protected:
  const PrivateKey& Key() const { return TestKey(GetParam()); }
  const PrivateKey& OtherKey() const { return TestKey(GetParam(), 1); }
};

INSTANTIATE_TEST_SUITE_P(AllTypes, KeyTypeSuite, ::testing::ValuesIn(kAllTypes),
                         [](const ::testing::TestParamInfo<KeyType>& param_info) {
                           return std::string(KeyTypeName(param_info.param));
                         });

TEST_P(KeyTypeSuite, GeneratedKeyHasCanonicalPublicForm) {
  const PublicKey& pub = Key().Public();
  EXPECT_EQ(Key().type(), GetParam());
  EXPECT_EQ(pub.type(), GetParam());
  EXPECT_EQ(pub.keytype(), KeyTypeName(GetParam()));
  EXPECT_EQ(pub.scheme(), SchemeOf(GetParam()));
  if (GetParam() == KeyType::kEd25519) {
    EXPECT_EQ(pub.public_value().size(), 64u);
    EXPECT_EQ(HexEncode(HexDecode(pub.public_value()).value()), pub.public_value());
  } else {
    EXPECT_TRUE(pub.public_value().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    EXPECT_TRUE(pub.public_value().ends_with("-----END PUBLIC KEY-----\n"));
  }
  auto parsed = PublicKey::FromTuf(pub.keytype(), pub.scheme(), pub.public_value());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_TRUE(parsed->SameKeyAs(pub));
  EXPECT_EQ(parsed->ComputeKeyId(), Key().KeyId());
  EXPECT_EQ(parsed->ToTufJson(), pub.ToTufJson());
  EXPECT_EQ(Key().KeyId().size(), 64u);
  EXPECT_FALSE(pub.SameKeyAs(OtherKey().Public()));
  EXPECT_NE(Key().KeyId(), OtherKey().KeyId());
}

TEST_P(KeyTypeSuite, SignAndVerify) {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{1} << 20}) {
    Bytes message = RandomMessage(size);
    auto signature = Key().Sign(message);
    ASSERT_TRUE(signature) << signature.error().ToString();
    EXPECT_TRUE(Key().Public().Verify(message, *signature)) << size;
  }
}

TEST_P(KeyTypeSuite, SignatureDeterminism) {
  Bytes message = RandomMessage(100);
  Bytes first = Key().Sign(message).value();
  Bytes second = Key().Sign(message).value();
  if (GetParam() == KeyType::kEd25519) {
    EXPECT_EQ(first, second);
  } else {
    EXPECT_NE(first, second);  // randomised (ECDSA nonce, PSS salt)
  }
  EXPECT_TRUE(Key().Public().Verify(message, first));
  EXPECT_TRUE(Key().Public().Verify(message, second));
  switch (GetParam()) {
    case KeyType::kEd25519:
      EXPECT_EQ(first.size(), 64u);
      break;
    case KeyType::kEcdsaP256:
      EXPECT_EQ(first[0], 0x30);  // DER SEQUENCE
      break;
    case KeyType::kRsa:
      EXPECT_EQ(first.size(), 384u);
      break;
  }
}

TEST_P(KeyTypeSuite, TamperedMessageFails) {
  Bytes message = ToBytes("update image v1.2.3 for board xyz");
  Bytes signature = Key().Sign(message).value();
  for (std::size_t i : {std::size_t{0}, message.size() / 2, message.size() - 1}) {
    Bytes tampered = message;
    tampered[i] ^= 0x01;
    ExpectCode(Key().Public().Verify(tampered, signature), Errc::kVerificationFailed);
  }
  Bytes longer = message;
  longer.push_back('!');
  ExpectCode(Key().Public().Verify(longer, signature), Errc::kVerificationFailed);
  ExpectCode(Key().Public().Verify({}, signature), Errc::kVerificationFailed);
}

TEST_P(KeyTypeSuite, TamperedSignatureFails) {
  Bytes message = ToBytes("root.json v7");
  Bytes signature = Key().Sign(message).value();
  for (std::size_t i = 0; i < signature.size(); i += (signature.size() / 16) + 1) {
    for (std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes tampered = signature;
      tampered[i] = static_cast<std::uint8_t>(tampered[i] ^ flip);
      ExpectCode(Key().Public().Verify(message, tampered), Errc::kVerificationFailed);
    }
  }
  Bytes truncated(signature.begin(), signature.end() - 1);
  ExpectCode(Key().Public().Verify(message, truncated), Errc::kVerificationFailed);
  Bytes extended = signature;
  extended.push_back(0);
  ExpectCode(Key().Public().Verify(message, extended), Errc::kVerificationFailed);
}

TEST_P(KeyTypeSuite, WrongKeyFails) {
  Bytes message = ToBytes("targets.json v3");
  Bytes signature = Key().Sign(message).value();
  ExpectCode(OtherKey().Public().Verify(message, signature), Errc::kVerificationFailed);
}

TEST_P(KeyTypeSuite, SignatureFromAnotherKeyTypeFails) {
  Bytes message = ToBytes("snapshot.json v9");
  for (KeyType other : kAllTypes) {
    if (other == GetParam()) continue;
    Bytes signature = TestKey(other).Sign(message).value();
    ExpectCode(Key().Public().Verify(message, signature), Errc::kVerificationFailed);
  }
}

TEST_P(KeyTypeSuite, GarbageSignaturesFail) {
  Bytes message = ToBytes("timestamp.json");
  std::vector<std::size_t> sizes;
  for (std::size_t n = 0; n <= 520; ++n) sizes.push_back(n);
  for (std::size_t n : {1023u, 1024u, 4096u, 65536u, 1u << 20}) sizes.push_back(n);
  for (std::size_t n : sizes) {
    Bytes garbage = RandomMessage(n);
    ExpectCode(Key().Public().Verify(message, garbage), Errc::kVerificationFailed);
    Bytes zeros(n, 0);
    ExpectCode(Key().Public().Verify(message, zeros), Errc::kVerificationFailed);
    Bytes ones(n, 0xff);
    ExpectCode(Key().Public().Verify(message, ones), Errc::kVerificationFailed);
    if (n >= 2) {  // DER-looking prefixes reach the ECDSA signature parser
      garbage[0] = 0x30;
      garbage[1] = static_cast<std::uint8_t>(n - 2);
      ExpectCode(Key().Public().Verify(message, garbage), Errc::kVerificationFailed);
    }
  }
}

TEST_P(KeyTypeSuite, PlainPemRoundTrip) {
  auto pem = Key().ToPem();
  ASSERT_TRUE(pem) << pem.error().ToString();
  EXPECT_TRUE(pem->starts_with("-----BEGIN PRIVATE KEY-----\n"));
  auto loaded = PrivateKey::FromPem(*pem);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->type(), GetParam());
  EXPECT_TRUE(loaded->Public().SameKeyAs(Key().Public()));
  EXPECT_EQ(loaded->Public().ToTufJson(), Key().Public().ToTufJson());
  EXPECT_EQ(loaded->KeyId(), Key().KeyId());
  Bytes message = ToBytes("round trip");
  EXPECT_TRUE(Key().Public().Verify(message, loaded->Sign(message).value()));
  // A passphrase for an unencrypted key is not needed, and not an error.
  EXPECT_TRUE(PrivateKey::FromPem(*pem, "unused"));
}

TEST_P(KeyTypeSuite, EncryptedPemRoundTrip) {
  auto pem = Key().ToPem("correct horse battery staple");
  ASSERT_TRUE(pem) << pem.error().ToString();
  EXPECT_TRUE(pem->starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
  EXPECT_NE(*pem, Key().ToPem("correct horse battery staple").value());  // fresh salt and IV

  auto loaded = PrivateKey::FromPem(*pem, "correct horse battery staple");
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_TRUE(loaded->Public().SameKeyAs(Key().Public()));
  Bytes message = ToBytes("encrypted round trip");
  EXPECT_TRUE(Key().Public().Verify(message, loaded->Sign(message).value()));

  auto wrong = PrivateKey::FromPem(*pem, "correct horse battery stapler");
  ExpectCode(wrong, Errc::kVerificationFailed);
  EXPECT_EQ(wrong.error().message(), "wrong passphrase or corrupt key");

  auto missing = PrivateKey::FromPem(*pem);
  ExpectCode(missing, Errc::kInvalidArgument);
  EXPECT_NE(missing.error().message().find("passphrase"), std::string::npos);
}

TEST_P(KeyTypeSuite, ConcurrentUseOfOneKey) {
  const PrivateKey key = Key();  // copies share the handle
  Bytes message = ToBytes("shared");
  Bytes signature = key.Sign(message).value();
  std::vector<std::thread> threads;
  std::array<int, 4> ok_counts{};
  for (std::size_t t = 0; t < ok_counts.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        if (key.Public().Verify(message, signature)) ++ok_counts[t];
        auto own = key.Sign(message);
        if (own && key.Public().Verify(message, *own)) ++ok_counts[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int count : ok_counts) EXPECT_EQ(count, 40);
}

// ---------------------------------------------------------------------------------------------
// Reading private keys written by others

// Writes `key` with OpenSSL directly, the way other tools do.
std::string WriteWithOpenSsl(const PrivateKey& key, bool traditional, const char* passphrase) {
  std::string plain = key.ToPem().value();
  ossl::BioPtr in = ossl::ReadOnlyBio(plain);
  ossl::EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  EXPECT_TRUE(pkey);
  ossl::BioPtr out(BIO_new(BIO_s_mem()));
  const EVP_CIPHER* cipher = passphrase != nullptr ? EVP_aes_256_cbc() : nullptr;
  int len = passphrase != nullptr ? static_cast<int>(std::strlen(passphrase)) : 0;
  std::string pass = passphrase != nullptr ? passphrase : "";
  std::vector<unsigned char> pass_bytes(pass.begin(), pass.end());
  int rc = traditional
               ? PEM_write_bio_PrivateKey_traditional(out.get(), pkey.get(), cipher,
                                                      pass_bytes.data(), len, nullptr, nullptr)
               : PEM_write_bio_PKCS8PrivateKey(out.get(), pkey.get(), cipher, pass.data(), len,
                                               nullptr, nullptr);
  EXPECT_EQ(rc, 1);
  return ossl::MemBioContents(out.get());
}

TEST_P(KeyTypeSuite, ReadsPbkdf2EncryptedPkcs8) {
  std::string pem = WriteWithOpenSsl(Key(), false, "pbkdf2 pass");
  ASSERT_TRUE(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  auto loaded = PrivateKey::FromPem(pem, "pbkdf2 pass");
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_TRUE(loaded->Public().SameKeyAs(Key().Public()));
  ExpectCode(PrivateKey::FromPem(pem, "wrong"), Errc::kVerificationFailed);
  ExpectCode(PrivateKey::FromPem(pem), Errc::kInvalidArgument);
}

TEST(PrivateKeyTest, ReadsTraditionalFormats) {
  for (KeyType type : {KeyType::kEcdsaP256, KeyType::kRsa}) {
    std::string pem = WriteWithOpenSsl(TestKey(type), true, nullptr);
    EXPECT_TRUE(pem.starts_with(type == KeyType::kRsa ? "-----BEGIN RSA PRIVATE KEY-----"
                                                      : "-----BEGIN EC PRIVATE KEY-----"));
    auto loaded = PrivateKey::FromPem(pem);
    ASSERT_TRUE(loaded) << loaded.error().ToString();
    EXPECT_TRUE(loaded->Public().SameKeyAs(TestKey(type).Public()));

    std::string encrypted = WriteWithOpenSsl(TestKey(type), true, "legacy pass");
    EXPECT_NE(encrypted.find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
    auto decrypted = PrivateKey::FromPem(encrypted, "legacy pass");
    ASSERT_TRUE(decrypted) << decrypted.error().ToString();
    EXPECT_TRUE(decrypted->Public().SameKeyAs(TestKey(type).Public()));
    ExpectCode(PrivateKey::FromPem(encrypted, "wrong"), Errc::kVerificationFailed);
    ExpectCode(PrivateKey::FromPem(encrypted), Errc::kInvalidArgument);
  }
}

TEST(PrivateKeyTest, ReadsPythonCryptographyEncryptedKey) {
  auto loaded = PrivateKey::FromPem(kPyEncryptedPem, "hunter2");
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_EQ(loaded->type(), KeyType::kEcdsaP256);
  EXPECT_EQ(loaded->Public().public_value(), kPyEncryptedPublic);
  ExpectCode(PrivateKey::FromPem(kPyEncryptedPem, "hunter3"), Errc::kVerificationFailed);
  ExpectCode(PrivateKey::FromPem(kPyEncryptedPem), Errc::kInvalidArgument);
}

TEST(PrivateKeyTest, RejectsKeysTufDoesNotAllow) {
  ExpectCode(PrivateKey::FromPem(kRsa1024Private), Errc::kInvalidArgument);
  ExpectCode(PrivateKey::FromPem(kP384Private), Errc::kInvalidArgument);
  ExpectCode(PrivateKey::FromPem(kX25519Private), Errc::kUnsupported);
}

TEST(PrivateKeyTest, RejectsGarbage) {
  std::string plain = TestKey(KeyType::kEd25519).ToPem().value();
  std::string corrupt = plain;
  corrupt[35] = corrupt[35] == 'A' ? 'B' : 'A';
  for (const std::string& pem :
       {std::string(), std::string("hello"), std::string(kPyEcdsaPublic),
        std::string("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"),
        plain.substr(0, plain.size() / 2), corrupt}) {
    ExpectCode(PrivateKey::FromPem(pem), Errc::kInvalidArgument);
  }
  // A corrupted encrypted key reads as a wrong passphrase: the two cannot be told apart.
  std::string encrypted = TestKey(KeyType::kEd25519).ToPem("pw").value();
  std::size_t body = encrypted.find('\n') + 1;
  std::size_t target = encrypted.rfind("-----END") - 10;
  ASSERT_GT(target, body);
  encrypted[target] = encrypted[target] == 'A' ? 'B' : 'A';
  auto broken = PrivateKey::FromPem(encrypted, "pw");
  ASSERT_FALSE(broken);
  EXPECT_TRUE(broken.error().code() == Errc::kVerificationFailed ||
              broken.error().code() == Errc::kInvalidArgument)
      << broken.error().ToString();
}

TEST(PrivateKeyTest, OverlongPassphraseIsRejectedNotTruncated) {
  const PrivateKey& key = TestKey(KeyType::kEd25519);
  std::string longest(1023, 'p');
  auto pem = key.ToPem(longest);
  ASSERT_TRUE(pem) << pem.error().ToString();
  auto loaded = PrivateKey::FromPem(*pem, longest);
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  EXPECT_TRUE(loaded->Public().SameKeyAs(key.Public()));
  ExpectCode(PrivateKey::FromPem(*pem, longest.substr(0, 1022)), Errc::kVerificationFailed);
  ExpectCode(key.ToPem(longest + "p"), Errc::kInvalidArgument);
  ExpectCode(PrivateKey::FromPem(*pem, longest + "p"), Errc::kInvalidArgument);
}

TEST(PrivateKeyTest, ErrorQueueIsLeftEmpty) {
  (void)PrivateKey::FromPem("garbage");
  (void)PrivateKey::FromPem(kPyEncryptedPem, "wrong");
  (void)PublicKey::FromTuf("ecdsa", "ecdsa-sha2-nistp256", kP384Public);
  (void)TestKey(KeyType::kRsa).Public().Verify(AsBytes("m"), Bytes(384, 1));
  (void)TestKey(KeyType::kRsa).Public().SameKeyAs(TestKey(KeyType::kEd25519).Public());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

}  // namespace
}  // namespace aloft::core::crypto
