#pragma once

// Small X.509 helpers: a private CA for aloftd's TLS front (the demo and tests run without any
// external PKI), server and device (mTLS client) certificates issued by it, and a summary of a
// certificate a peer presented. Certificates are PEM strings; keys are core/crypto keys.
//
// Every certificate gets a random 128-bit serial and a SHA-256 signature (ed25519 CAs sign
// with PureEdDSA, which has no separate digest). Validity starts one minute in the past, so a
// peer whose clock is slightly behind still accepts a freshly issued certificate.
// Thread-safe: the functions share no state.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::core::crypto {

// A self-signed CA certificate for `key`: basicConstraints CA:TRUE (critical), keyUsage
// keyCertSign + cRLSign (critical), subjectKeyIdentifier. Fails with kInvalidArgument for an
// empty common name or a key without private material, kInternal if OpenSSL fails.
Result<std::string> MakeSelfSignedCaPem(const PrivateKey& key, std::string common_name,
                                        std::chrono::seconds validity);

struct CertificateRequest {
  std::string common_name;                // subject CN; must not be empty
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries ("127.0.0.1", "::1")
  bool server_auth = false;               // extendedKeyUsage serverAuth
  bool client_auth = false;               // extendedKeyUsage clientAuth
  std::chrono::seconds validity{std::chrono::hours(24 * 365)};
};

// An end-entity certificate for `subject_key`, signed by the CA (`ca_key` must be the key of
// `ca_cert_pem`; checked). basicConstraints CA:FALSE, keyUsage digitalSignature (+
// keyEncipherment for RSA subjects), authorityKeyIdentifier. kInvalidArgument for a bad CA
// PEM, a mismatched CA key, an unparsable IP address or an empty common name.
Result<std::string> IssueCertificatePem(const PrivateKey& ca_key, std::string_view ca_cert_pem,
                                        const PublicKey& subject_key,
                                        const CertificateRequest& request);

// What a server records about a verified client certificate.
struct CertificateSummary {
  std::string subject_common_name;  // "" when the subject has no CN
  std::string sha256_fingerprint;   // lower-case hex SHA-256 of the DER encoding
};

// Summarises a DER-encoded certificate. kInvalidArgument if `der` is not one certificate.
Result<CertificateSummary> SummarizeCertificateDer(ByteView der);
// The same for the first certificate in a PEM string.
Result<CertificateSummary> SummarizeCertificatePem(std::string_view pem);

}  // namespace aloft::core::crypto
