#include "core/crypto/x509.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "core/crypto/openssl/ossl.hpp"
// After ossl.hpp, so that its API-level macros are in force here too.
#include <openssl/x509v3.h>  // NOLINT(llvm-include-order)

namespace aloft::core::crypto {
namespace {

struct X509Free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct StoreFree {
  void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const noexcept { X509_STORE_CTX_free(p); }
};

std::unique_ptr<X509, X509Free> Parse(const std::string& pem) {
  ossl::BioPtr bio = ossl::ReadOnlyBio(pem);
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `leaf` against `ca` as the only trust anchor, for `purpose`.
int Verify(const std::string& ca_pem, const std::string& leaf_pem, int purpose) {
  auto ca = Parse(ca_pem);
  auto leaf = Parse(leaf_pem);
  if (!ca || !leaf) return -1;
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), purpose);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

class X509Test : public ::testing::TestWithParam<KeyType> {};

TEST_P(X509Test, IssuedChainVerifies) {
  auto ca_key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(ca_key) << ca_key.error().ToString();
  auto ca = MakeSelfSignedCaPem(*ca_key, "Aloft test CA", std::chrono::hours(24));
  ASSERT_TRUE(ca) << ca.error().ToString();

  auto leaf_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(leaf_key);
  CertificateRequest request;
  request.common_name = "aloftd";
  request.dns_names = {"localhost"};
  request.ip_addresses = {"127.0.0.1", "::1"};
  request.server_auth = true;
  auto leaf = IssueCertificatePem(*ca_key, *ca, leaf_key->Public(), request);
  ASSERT_TRUE(leaf) << leaf.error().ToString();

  EXPECT_EQ(Verify(*ca, *leaf, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  // serverAuth only: not usable as a TLS client certificate.
  EXPECT_NE(Verify(*ca, *leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);

  auto summary = SummarizeCertificatePem(*leaf);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->subject_common_name, "aloftd");
  EXPECT_EQ(summary->sha256_fingerprint.size(), 64u);
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, X509Test,
                         ::testing::Values(KeyType::kEcdsaP256, KeyType::kEd25519, KeyType::kRsa));

TEST(X509, ClientCertificateFromAnotherCaDoesNotVerify) {
  auto ca_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  auto other_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(ca_key && other_key);
  auto ca = MakeSelfSignedCaPem(*ca_key, "CA", std::chrono::hours(1));
  auto other = MakeSelfSignedCaPem(*other_key, "Other", std::chrono::hours(1));
  ASSERT_TRUE(ca && other);
  CertificateRequest request;
  request.common_name = "device-1";
  request.client_auth = true;
  auto leaf = IssueCertificatePem(*ca_key, *ca, other_key->Public(), request);
  ASSERT_TRUE(leaf);
  EXPECT_EQ(Verify(*ca, *leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_NE(Verify(*other, *leaf, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST(X509, RejectsBadInput) {
  auto ca_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  auto other_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  ASSERT_TRUE(ca_key && other_key);
  EXPECT_FALSE(MakeSelfSignedCaPem(*ca_key, "", std::chrono::hours(1)));
  auto ca = MakeSelfSignedCaPem(*ca_key, "CA", std::chrono::hours(1));
  ASSERT_TRUE(ca);
  CertificateRequest request;
  request.common_name = "x";
  // The wrong CA key.
  auto wrong = IssueCertificatePem(*other_key, *ca, other_key->Public(), request);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Errc::kInvalidArgument);
  request.ip_addresses = {"not-an-ip"};
  EXPECT_FALSE(IssueCertificatePem(*ca_key, *ca, other_key->Public(), request));
  EXPECT_FALSE(IssueCertificatePem(*ca_key, "garbage", other_key->Public(), CertificateRequest{}));
  EXPECT_FALSE(SummarizeCertificateDer(AsBytes("nope")));
}

}  // namespace
}  // namespace aloft::core::crypto
