#include "core/crypto/x509.hpp"

#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/openssl/ossl.hpp"
// After ossl.hpp, so that its API-level macros are in force here too.
#include <openssl/x509v3.h>  // NOLINT(llvm-include-order)

namespace aloft::core::crypto {
namespace {

struct X509Deleter {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct BnDeleter {
  void operator()(BIGNUM* p) const noexcept { BN_free(p); }
};
struct ExtDeleter {
  void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtDeleter>;

constexpr std::int64_t kBackdateSeconds = 60;

// The EVP_PKEY behind a key. keys.hpp keeps its handle private, so go through the key's own
// serialisations: PKCS#8 PEM for private keys, TUF's public value for public keys.
Result<ossl::EvpPkeyPtr> LoadPrivate(const PrivateKey& key) {
  auto pem = key.ToPem();
  if (!pem) return Fail(std::move(pem).error());
  ossl::BioPtr bio = ossl::ReadOnlyBio(*pem);
  ossl::EvpPkeyPtr pkey(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                            : nullptr);
  OPENSSL_cleanse(pem->data(), pem->size());
  if (!pkey) return ossl::FailWithErrors(Errc::kInternal, "cannot reload the private key");
  return pkey;
}

Result<ossl::EvpPkeyPtr> LoadPublic(const PublicKey& key) {
  if (key.type() == KeyType::kEd25519) {
    auto raw = HexDecode(key.public_value());
    if (!raw) return Fail(std::move(raw).error());
    ossl::EvpPkeyPtr pkey(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw->data(), raw->size()));
    if (!pkey) return ossl::FailWithErrors(Errc::kInvalidArgument, "bad ed25519 public key");
    return pkey;
  }
  ossl::BioPtr bio = ossl::ReadOnlyBio(key.public_value());
  ossl::EvpPkeyPtr pkey(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!pkey) return ossl::FailWithErrors(Errc::kInvalidArgument, "bad public key PEM");
  return pkey;
}

// SHA-256 for ECDSA and RSA (PKCS#1 v1.5, which every TLS stack accepts in certificates);
// none for ed25519, whose signature hashes internally.
const EVP_MD* SignatureDigest(KeyType type) {
  return type == KeyType::kEd25519 ? nullptr : EVP_sha256();
}

Status SetRandomSerial(X509* cert) {
  std::uint8_t bytes[16];
  if (RAND_bytes(bytes, static_cast<int>(sizeof(bytes))) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "no randomness for the serial");
  }
  bytes[0] &= 0x7f;  // a positive INTEGER
  bytes[0] |= 0x40;  // and never shorter than 16 bytes
  BnPtr bn(BN_bin2bn(bytes, static_cast<int>(sizeof(bytes)), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot set the serial");
  }
  return Ok();
}

Status SetValidity(X509* cert, std::chrono::seconds validity) {
  if (validity.count() <= 0) return Fail(Errc::kInvalidArgument, "validity must be positive");
  if (X509_gmtime_adj(X509_getm_notBefore(cert), -kBackdateSeconds) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert), static_cast<int>(validity.count() / 86400),
                       static_cast<long>(validity.count() % 86400),  // NOLINT(google-runtime-int)
                       nullptr) == nullptr) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot set the validity");
  }
  return Ok();
}

Status SetSubjectCn(X509* cert, const std::string& common_name) {
  if (common_name.empty()) return Fail(Errc::kInvalidArgument, "empty common name");
  if (common_name.size() > 64) return Fail(Errc::kInvalidArgument, "common name too long");
  X509_NAME* name = X509_get_subject_name(cert);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.data()),
                                 static_cast<int>(common_name.size()), -1, 0) != 1) {
    return ossl::FailWithErrors(Errc::kInvalidArgument, "bad common name");
  }
  return Ok();
}

Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return ossl::FailWithErrors(Errc::kInvalidArgument,
                                std::string("cannot add extension ") + OBJ_nid2sn(nid));
  }
  return Ok();
}

Result<std::string> SignAndEncode(X509* cert, EVP_PKEY* signer, KeyType signer_type) {
  if (X509_sign(cert, signer, SignatureDigest(signer_type)) <= 0) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot sign the certificate");
  }
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot encode the certificate");
  }
  return ossl::MemBioContents(bio.get());
}

Result<X509Ptr> ParseCertPem(std::string_view pem) {
  ossl::BioPtr bio = ossl::ReadOnlyBio(pem);
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return ossl::FailWithErrors(Errc::kInvalidArgument, "not a PEM certificate");
  return cert;
}

}  // namespace

Result<std::string> MakeSelfSignedCaPem(const PrivateKey& key, std::string common_name,
                                        std::chrono::seconds validity) {
  auto pkey = LoadPrivate(key);
  if (!pkey) return Fail(std::move(pkey).error().WithContext("CA certificate"));
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot allocate a certificate");
  }
  if (auto s = SetRandomSerial(cert.get()); !s) return Fail(std::move(s).error());
  if (auto s = SetValidity(cert.get(), validity); !s) return Fail(std::move(s).error());
  if (auto s = SetSubjectCn(cert.get(), common_name); !s) return Fail(std::move(s).error());
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), pkey->get()) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot fill the certificate");
  }
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:TRUE"},
                            {NID_key_usage, "critical,keyCertSign,cRLSign"},
                            {NID_subject_key_identifier, "hash"}}) {
    if (auto s = AddExtension(cert.get(), &ctx, nid, value); !s) return Fail(std::move(s).error());
  }
  return SignAndEncode(cert.get(), pkey->get(), key.type());
}

Result<std::string> IssueCertificatePem(const PrivateKey& ca_key, std::string_view ca_cert_pem,
                                        const PublicKey& subject_key,
                                        const CertificateRequest& request) {
  auto ca_cert = ParseCertPem(ca_cert_pem);
  if (!ca_cert) return Fail(std::move(ca_cert).error().WithContext("CA certificate"));
  auto ca_pkey = LoadPrivate(ca_key);
  if (!ca_pkey) return Fail(std::move(ca_pkey).error().WithContext("CA key"));
  if (X509_check_private_key(ca_cert->get(), ca_pkey->get()) != 1) {
    return ossl::FailWithErrors(Errc::kInvalidArgument,
                                "the CA key does not match the CA certificate");
  }
  auto subject_pkey = LoadPublic(subject_key);
  if (!subject_pkey) return Fail(std::move(subject_pkey).error().WithContext("subject key"));

  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot allocate a certificate");
  }
  if (auto s = SetRandomSerial(cert.get()); !s) return Fail(std::move(s).error());
  if (auto s = SetValidity(cert.get(), request.validity); !s) return Fail(std::move(s).error());
  if (auto s = SetSubjectCn(cert.get(), request.common_name); !s) {
    return Fail(std::move(s).error());
  }
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert->get())) != 1 ||
      X509_set_pubkey(cert.get(), subject_pkey->get()) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot fill the certificate");
  }

  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, subject_key.type() == KeyType::kRsa
                          ? "critical,digitalSignature,keyEncipherment"
                          : "critical,digitalSignature"},
      {NID_subject_key_identifier, "hash"},
      {NID_authority_key_identifier, "keyid:always"},
  };
  std::string eku;
  if (request.server_auth) eku = "serverAuth";
  if (request.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
  if (!eku.empty()) extensions.emplace_back(NID_ext_key_usage, eku);
  std::string san;
  for (const std::string& dns : request.dns_names) {
    if (dns.empty() || dns.find_first_of(",\n\r:") != std::string::npos) {
      return Fail(Errc::kInvalidArgument, "bad DNS name '" + dns + "'");
    }
    san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  }
  for (const std::string& ip : request.ip_addresses) {
    // Validate here so the error names the address rather than OpenSSL's config parser.
    ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
    if (parsed == nullptr) {
      ERR_clear_error();
      return Fail(Errc::kInvalidArgument, "bad IP address '" + ip + "'");
    }
    ASN1_OCTET_STRING_free(parsed);
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }
  if (!san.empty()) extensions.emplace_back(NID_subject_alt_name, san);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, ca_cert->get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    if (auto s = AddExtension(cert.get(), &ctx, nid, value); !s) return Fail(std::move(s).error());
  }
  return SignAndEncode(cert.get(), ca_pkey->get(), ca_key.type());
}

Result<CertificateSummary> SummarizeCertificateDer(ByteView der) {
  if (der.size() > static_cast<std::size_t>(std::numeric_limits<long>::max())) {  // NOLINT
    return Fail(Errc::kInvalidArgument, "certificate too large");
  }
  const unsigned char* p = der.data();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (!cert || p != der.data() + der.size()) {
    return ossl::FailWithErrors(Errc::kInvalidArgument, "not one DER certificate");
  }
  CertificateSummary summary;
  summary.sha256_fingerprint = Sha256Hex(der);
  X509_NAME* name = X509_get_subject_name(cert.get());
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0 && utf8 != nullptr) {
      summary.subject_common_name.assign(reinterpret_cast<const char*>(utf8),
                                         static_cast<std::size_t>(len));
    }
    OPENSSL_free(utf8);
  }
  ERR_clear_error();
  return summary;
}

Result<CertificateSummary> SummarizeCertificatePem(std::string_view pem) {
  auto cert = ParseCertPem(pem);
  if (!cert) return Fail(std::move(cert).error());
  unsigned char* der = nullptr;
  int len = i2d_X509(cert->get(), &der);
  if (len <= 0 || der == nullptr) return ossl::FailWithErrors(Errc::kInternal, "cannot encode");
  auto summary = SummarizeCertificateDer(ByteView(der, static_cast<std::size_t>(len)));
  OPENSSL_free(der);
  return summary;
}

}  // namespace aloft::core::crypto
