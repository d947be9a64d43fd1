#include "core/crypto/keys.hpp"

#include <cstring>
#include <utility>

#include "core/base/hex.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/openssl/key_handle.hpp"
#include "core/crypto/openssl/ossl.hpp"

namespace aloft::core::crypto {
namespace {

using codec::Json;

constexpr std::string_view kSchemeEd25519 = "ed25519";
constexpr std::string_view kSchemeEcdsa = "ecdsa-sha2-nistp256";
constexpr std::string_view kSchemeRsaPss = "rsassa-pss-sha256";

constexpr std::size_t kEd25519PublicSize = 32;
constexpr int kRsaMinBits = 2048;
constexpr int kRsaMaxBits = 8192;  // bounds the cost of one verification
constexpr int kRsaGenerateBits = 3072;
constexpr int kPssSignSaltLength = 32;  // = SHA-256 digest length, as securesystemslib signs

// scrypt cost for encrypted private keys: N = 2^14, r = 8, p = 1 (the scrypt paper's
// interactive setting and `openssl pkcs8 -scrypt`'s default). It needs 16 MiB; OpenSSL refuses
// to decrypt with more than 32 MiB by default, so N = 2^15 would write keys nobody can read.
constexpr std::uint64_t kScryptN = std::uint64_t{1} << 14;
constexpr std::uint64_t kScryptR = 8;
constexpr std::uint64_t kScryptP = 1;
constexpr std::size_t kScryptSaltSize = 16;

// OpenSSL hands the PEM password callback a PEM_BUFSIZE (1024) buffer and NUL-terminates the
// answer, so longer passphrases cannot be read back: refuse to write them too.
constexpr std::size_t kMaxPassphraseSize = PEM_BUFSIZE - 1;

constexpr std::string_view kPemPublicBegin = "-----BEGIN PUBLIC KEY-----";
constexpr std::string_view kPemPublicEnd = "-----END PUBLIC KEY-----";

struct Pkcs8InfoDeleter {
  void operator()(PKCS8_PRIV_KEY_INFO* p) const noexcept { PKCS8_PRIV_KEY_INFO_free(p); }
};
struct X509SigDeleter {
  void operator()(X509_SIG* p) const noexcept { X509_SIG_free(p); }
};

std::string_view SchemeFor(KeyType type) noexcept {
  switch (type) {
    case KeyType::kEd25519:
      return kSchemeEd25519;
    case KeyType::kEcdsaP256:
      return kSchemeEcdsa;
    case KeyType::kRsa:
      return kSchemeRsaPss;
  }
  return {};
}

// OpenSSL's name for the key algorithm, for EVP_PKEY_is_a and key generation.
const char* OpenSslAlgorithm(KeyType type) noexcept {
  switch (type) {
    case KeyType::kEd25519:
      return "ED25519";
    case KeyType::kEcdsaP256:
      return "EC";
    case KeyType::kRsa:
      return "RSA";
  }
  return "";
}

// The digest the scheme hashes the message with; ed25519 hashes internally (PureEdDSA).
const char* DigestName(KeyType type) noexcept {
  return type == KeyType::kEd25519 ? nullptr : "SHA256";
}

bool IsPemSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && IsPemSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsPemSpace(s.back())) s.remove_suffix(1);
  return s;
}

// OpenSSL accepts a null pointer for zero-length input almost everywhere, but not documentedly
// everywhere; an empty span's data() may be null.
const unsigned char* DataOrEmpty(ByteView bytes) noexcept {
  static constexpr unsigned char kEmpty = 0;
  return bytes.empty() ? &kEmpty : bytes.data();
}

// What the PEM password callback was asked and answered. OpenSSL only calls it for encrypted
// keys, so `asked` tells "wrong passphrase" apart from "not a key at all". Passing a callback at
// all matters: with none, OpenSSL would prompt on the terminal.
struct PassphraseRequest {
  std::string_view passphrase;
  bool asked = false;
  bool too_long = false;
};

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* request = static_cast<PassphraseRequest*>(user);
  if (request == nullptr) return -1;
  request->asked = true;
  if (request->passphrase.empty() || size <= 0) return -1;
  // OpenSSL writes a terminating NUL at buf[returned length], so leave room for it.
  if (request->passphrase.size() >= static_cast<std::size_t>(size)) {
    request->too_long = true;
    return -1;
  }
  std::memcpy(buf, request->passphrase.data(), request->passphrase.size());
  return static_cast<int>(request->passphrase.size());
}

// Checks that `pkey` is a key TUF's `type` allows: the right algorithm, P-256 for ECDSA, and an
// RSA modulus within bounds.
Status CheckKeyMaterial(KeyType type, EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, OpenSslAlgorithm(type)) != 1) {
    const char* actual = EVP_PKEY_get0_type_name(pkey);
    ERR_clear_error();
    return Fail(Errc::kInvalidArgument, "keytype is " + std::string(KeyTypeName(type)) +
                                            " but the key material is " +
                                            std::string(actual != nullptr ? actual : "unknown"));
  }
  if (type == KeyType::kEcdsaP256) {
    char group[64] = {};
    std::size_t group_len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &group_len) != 1) {
      return ossl::FailWithErrors(Errc::kInvalidArgument, "ECDSA key has no named curve");
    }
    std::string_view name(group, group_len);
    if (name != "prime256v1" && name != "P-256") {
      return Fail(Errc::kInvalidArgument,
                  "ECDSA key is on curve '" + std::string(name) + "', not P-256");
    }
  }
  if (type == KeyType::kRsa) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kRsaMinBits || bits > kRsaMaxBits) {
      ERR_clear_error();
      return Fail(Errc::kInvalidArgument,
                  "RSA key has " + std::to_string(bits) + " bits; 2048 to 8192 are accepted");
    }
  }
  return Ok();
}

Result<ossl::EvpPkeyPtr> LoadEd25519Public(std::string_view hex) {
  if (hex.size() != 2 * kEd25519PublicSize) {
    return Fail(Errc::kInvalidArgument,
                "ed25519 public key must be 64 hex characters, got " + std::to_string(hex.size()));
  }
  auto raw = HexDecode(hex);
  if (!raw) return Fail(std::move(raw).error().WithContext("ed25519 public key"));
  ossl::EvpPkeyPtr pkey(
      EVP_PKEY_new_raw_public_key_ex(nullptr, "ED25519", nullptr, raw->data(), raw->size()));
  if (!pkey) return ossl::FailWithErrors(Errc::kInvalidArgument, "bad ed25519 public key");
  return pkey;
}

// Exactly one PEM "PUBLIC KEY" block (SubjectPublicKeyInfo), optionally surrounded by
// whitespace, whose DER is consumed completely. Being this strict keeps one spelling per key
// as far as PEM allows: the key ID covers the spelling, not the key.
Result<ossl::EvpPkeyPtr> LoadSpkiPem(std::string_view pem) {
  std::string_view body = TrimSpace(pem);
  if (!body.starts_with(kPemPublicBegin) || !body.ends_with(kPemPublicEnd)) {
    return Fail(Errc::kInvalidArgument, "public key must be one PEM 'PUBLIC KEY' block");
  }
  ossl::BioPtr bio = ossl::ReadOnlyBio(body);
  if (!bio) return ossl::FailWithErrors(Errc::kInternal, "cannot allocate a BIO");
  char* name_raw = nullptr;
  char* header_raw = nullptr;
  unsigned char* der_raw = nullptr;
  long der_len = 0;  // NOLINT(google-runtime-int): OpenSSL's type
  int rc = PEM_read_bio(bio.get(), &name_raw, &header_raw, &der_raw, &der_len);
  std::unique_ptr<char, ossl::OpenSslFree> name(name_raw);
  std::unique_ptr<char, ossl::OpenSslFree> header(header_raw);
  std::unique_ptr<unsigned char, ossl::OpenSslFree> der(der_raw);
  if (rc != 1) return ossl::FailWithErrors(Errc::kInvalidArgument, "malformed PEM public key");
  if (std::strcmp(name.get(), "PUBLIC KEY") != 0 || header.get()[0] != '\0') {
    return Fail(Errc::kInvalidArgument, "PEM block is not a plain 'PUBLIC KEY'");
  }
  if (BIO_ctrl_pending(bio.get()) != 0) {
    return Fail(Errc::kInvalidArgument, "trailing data after the PEM public key");
  }
  const unsigned char* p = der.get();
  ossl::EvpPkeyPtr pkey(d2i_PUBKEY_ex(nullptr, &p, der_len, nullptr, nullptr));
  if (!pkey) {
    return ossl::FailWithErrors(Errc::kInvalidArgument, "malformed SubjectPublicKeyInfo");
  }
  if (p != der.get() + der_len) {
    return Fail(Errc::kInvalidArgument, "trailing bytes after the SubjectPublicKeyInfo");
  }
  return pkey;
}

// TUF's spelling of the public half: raw hex for ed25519, SPKI PEM (trailing newline, as
// PEM_write_bio_PUBKEY and python-cryptography write it) otherwise.
Result<std::string> PublicValueOf(KeyType type, EVP_PKEY* pkey) {
  if (type == KeyType::kEd25519) {
    std::uint8_t raw[kEd25519PublicSize];
    std::size_t len = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != sizeof(raw)) {
      return ossl::FailWithErrors(Errc::kInternal, "cannot export the ed25519 public key");
    }
    return HexEncode(ByteView(raw, len));
  }
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot export the public key");
  }
  return ossl::MemBioContents(bio.get());
}

Result<KeyType> DetectType(EVP_PKEY* pkey) {
  for (KeyType type : {KeyType::kEd25519, KeyType::kEcdsaP256, KeyType::kRsa}) {
    if (EVP_PKEY_is_a(pkey, OpenSslAlgorithm(type)) == 1) return type;
  }
  ERR_clear_error();
  const char* name = EVP_PKEY_get0_type_name(pkey);
  return Fail(Errc::kUnsupported,
              "unsupported private key type '" + std::string(name != nullptr ? name : "?") + "'");
}

// Sets RSASSA-PSS with SHA-256 and MGF1-SHA-256 on a DigestSign/DigestVerify context.
bool SetPss(EVP_PKEY_CTX* pctx, int salt_length) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", nullptr) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt_length) == 1;
}

}  // namespace

std::string_view KeyTypeName(KeyType type) noexcept {
  switch (type) {
    case KeyType::kEd25519:
      return "ed25519";
    case KeyType::kEcdsaP256:
      return "ecdsa";
    case KeyType::kRsa:
      return "rsa";
  }
  return "unknown";
}

Result<KeyType> ParseKeyType(std::string_view name) {
  if (name == "ed25519") return KeyType::kEd25519;
  if (name == "ecdsa" || name == "ecdsa-sha2-nistp256") return KeyType::kEcdsaP256;
  if (name == "rsa") return KeyType::kRsa;
  return Fail(Errc::kUnsupported, "unsupported keytype '" + std::string(name) + "'");
}

// ---------------------------------------------------------------------------------------------
// PublicKey

Result<PublicKey> PublicKey::FromTuf(std::string_view keytype, std::string_view scheme,
                                     std::string_view public_value) {
  auto type = ParseKeyType(keytype);
  if (!type) return Fail(std::move(type).error());
  if (scheme != SchemeFor(*type)) {
    return Fail(Errc::kUnsupported, "keytype '" + std::string(keytype) + "' with scheme '" +
                                        std::string(scheme) + "' is not supported");
  }
  auto pkey =
      *type == KeyType::kEd25519 ? LoadEd25519Public(public_value) : LoadSpkiPem(public_value);
  if (!pkey) return Fail(std::move(pkey).error());
  if (auto ok = CheckKeyMaterial(*type, pkey->get()); !ok) return Fail(std::move(ok).error());

  PublicKey key;
  key.handle_ = std::make_shared<const detail::KeyHandle>(*type, std::move(*pkey));
  key.keytype_ = std::string(keytype);
  key.scheme_ = std::string(scheme);
  key.public_ = std::string(public_value);
  key.json_ = Json::Object{{"keytype", Json(key.keytype_)},
                           {"scheme", Json(key.scheme_)},
                           {"keyval", Json::Object{{"public", Json(key.public_)}}}};
  return key;
}

Result<PublicKey> PublicKey::FromTufJson(const codec::Json& key) {
  if (!key.IsObject()) return Fail(Errc::kInvalidArgument, "key must be a JSON object");
  const Json* keytype = key.Find("keytype");
  if (keytype == nullptr || !keytype->IsString()) {
    return Fail(Errc::kInvalidArgument, "key needs a string 'keytype'");
  }
  const Json* scheme = key.Find("scheme");
  if (scheme == nullptr || !scheme->IsString()) {
    return Fail(Errc::kInvalidArgument, "key needs a string 'scheme'");
  }
  const Json* keyval = key.Find("keyval");
  if (keyval == nullptr || !keyval->IsObject()) {
    return Fail(Errc::kInvalidArgument, "key needs an object 'keyval'");
  }
  const Json* public_value = keyval->Find("public");
  if (public_value == nullptr || !public_value->IsString()) {
    return Fail(Errc::kInvalidArgument, "key needs a string 'keyval.public'");
  }
  auto parsed = FromTuf(keytype->AsString(), scheme->AsString(), public_value->AsString());
  if (!parsed) return parsed;
  parsed->json_ = key;
  return parsed;
}

KeyType PublicKey::type() const noexcept { return handle_ ? handle_->type : KeyType::kEd25519; }
const std::string& PublicKey::keytype() const noexcept { return keytype_; }
const std::string& PublicKey::scheme() const noexcept { return scheme_; }
const std::string& PublicKey::public_value() const noexcept { return public_; }
const codec::Json& PublicKey::ToTufJson() const noexcept { return json_; }

std::string PublicKey::ComputeKeyId() const {
  // securesystemslib's default: exactly these three members, whatever else the JSON carries.
  Json keyid_input = Json::Object{{"keytype", Json(keytype_)},
                                  {"keyval", Json::Object{{"public", Json(public_)}}},
                                  {"scheme", Json(scheme_)}};
  return Sha256Hex(AsBytes(codec::CanonicalJson(keyid_input)));
}

Status PublicKey::Verify(ByteView message, ByteView signature) const {
  if (!handle_) return Fail(Errc::kVerificationFailed, "no public key to verify with");
  if (signature.empty()) return Fail(Errc::kVerificationFailed, "empty signature");
  // Every failure below, including allocation failure, is a failed verification: fail closed.
  ossl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, DigestName(handle_->type), nullptr, nullptr,
                                      handle_->pkey.get(), nullptr) != 1) {
    return ossl::FailWithErrors(Errc::kVerificationFailed, "cannot set up verification");
  }
  // Verification accepts any salt length (RSA_PSS_SALTLEN_AUTO): TUF implementations differ in
  // what they sign with, and the salt length adds nothing to the verifier's security.
  if (handle_->type == KeyType::kRsa && !SetPss(pctx, RSA_PSS_SALTLEN_AUTO)) {
    return ossl::FailWithErrors(Errc::kVerificationFailed, "cannot set up RSA-PSS");
  }
  int rc = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), DataOrEmpty(message),
                            message.size());
  if (rc != 1) {
    // Garbage signatures routinely fill the error queue (DER or padding errors); not news.
    ERR_clear_error();
    return Fail(Errc::kVerificationFailed,
                std::string(KeyTypeName(handle_->type)) + " signature does not verify");
  }
  return Ok();
}

bool PublicKey::SameKeyAs(const PublicKey& other) const {
  if (!handle_ || !other.handle_) return false;
  if (handle_ == other.handle_) return true;
  bool same = EVP_PKEY_eq(handle_->pkey.get(), other.handle_->pkey.get()) == 1;
  ERR_clear_error();  // comparing keys of different types leaves an error behind
  return same;
}

// ---------------------------------------------------------------------------------------------
// PrivateKey

namespace {

struct LoadedPrivateKey {
  std::shared_ptr<const detail::KeyHandle> handle;
  PublicKey public_key;
};

// Takes a loaded or generated private key: checks it is a key TUF allows and derives the public
// half in TUF's canonical spelling, validated exactly like a key read from metadata.
Result<LoadedPrivateKey> AdoptPrivateKey(ossl::EvpPkeyPtr pkey) {
  auto type = DetectType(pkey.get());
  if (!type) return Fail(std::move(type).error());
  auto public_value = PublicValueOf(*type, pkey.get());
  if (!public_value) return Fail(std::move(public_value).error());
  auto public_key = PublicKey::FromTuf(KeyTypeName(*type), SchemeFor(*type), *public_value);
  if (!public_key) return Fail(std::move(public_key).error().WithContext("private key"));
  return LoadedPrivateKey{std::make_shared<const detail::KeyHandle>(*type, std::move(pkey)),
                          std::move(*public_key)};
}

}  // namespace

Result<PrivateKey> PrivateKey::Generate(KeyType type) {
  ossl::EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, OpenSslAlgorithm(type), nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot set up key generation");
  }
  if (type == KeyType::kEcdsaP256 && EVP_PKEY_CTX_set_group_name(ctx.get(), "P-256") != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot select curve P-256");
  }
  if (type == KeyType::kRsa && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), kRsaGenerateBits) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot set the RSA key size");
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_generate(ctx.get(), &raw) != 1) {
    EVP_PKEY_free(raw);
    return ossl::FailWithErrors(Errc::kInternal, "key generation failed");
  }
  auto loaded = AdoptPrivateKey(ossl::EvpPkeyPtr(raw));
  if (!loaded) return Fail(std::move(loaded).error());
  PrivateKey key;
  key.handle_ = std::move(loaded->handle);
  key.public_ = std::move(loaded->public_key);
  return key;
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem, std::string_view passphrase) {
  if (passphrase.size() > kMaxPassphraseSize) {
    return Fail(Errc::kInvalidArgument,
                "passphrase longer than " + std::to_string(kMaxPassphraseSize) + " bytes");
  }
  ossl::BioPtr bio = ossl::ReadOnlyBio(pem);
  if (!bio) return ossl::FailWithErrors(Errc::kInvalidArgument, "private key PEM too large");
  PassphraseRequest request{passphrase};
  // Reads PKCS#8 (plain or encrypted, PBKDF2 or scrypt) and the traditional per-algorithm
  // formats ("RSA PRIVATE KEY", "EC PRIVATE KEY", with or without Proc-Type encryption).
  ossl::EvpPkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &PassphraseCallback, &request));
  if (!pkey) {
    if (request.asked && passphrase.empty()) {
      ERR_clear_error();
      return Fail(Errc::kInvalidArgument, "the private key is encrypted: a passphrase is needed");
    }
    if (request.too_long) {
      ERR_clear_error();
      return Fail(Errc::kInvalidArgument, "passphrase too long");
    }
    if (request.asked) {
      ERR_clear_error();
      return Fail(Errc::kVerificationFailed, "wrong passphrase or corrupt key");
    }
    return ossl::FailWithErrors(Errc::kInvalidArgument, "not a PEM private key");
  }
  ERR_clear_error();  // decoders that were tried and did not match may leave entries behind
  auto loaded = AdoptPrivateKey(std::move(pkey));
  if (!loaded) return Fail(std::move(loaded).error());
  PrivateKey key;
  key.handle_ = std::move(loaded->handle);
  key.public_ = std::move(loaded->public_key);
  return key;
}

Result<std::string> PrivateKey::ToPem(std::string_view passphrase) const {
  if (!handle_) return Fail(Errc::kInvalidArgument, "no private key to export");
  ossl::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return ossl::FailWithErrors(Errc::kInternal, "cannot allocate a BIO");
  if (passphrase.empty()) {
    // PKCS#8 "PRIVATE KEY" for every key type.
    if (PEM_write_bio_PrivateKey(bio.get(), handle_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                 nullptr) != 1) {
      return ossl::FailWithErrors(Errc::kInternal, "cannot write the private key");
    }
  } else {
    // Encrypted PKCS#8 "ENCRYPTED PRIVATE KEY": PBES2 with the scrypt KDF and AES-256-CBC,
    // built by hand because PEM_write_bio_PKCS8PrivateKey only offers PBKDF2.
    if (passphrase.size() > kMaxPassphraseSize) {
      return Fail(Errc::kInvalidArgument,
                  "passphrase longer than " + std::to_string(kMaxPassphraseSize) + " bytes");
    }
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, Pkcs8InfoDeleter> info(
        EVP_PKEY2PKCS8(handle_->pkey.get()));
    if (!info) return ossl::FailWithErrors(Errc::kInternal, "cannot encode the private key");
    std::uint8_t salt[kScryptSaltSize];
    if (auto ok = RandomBytes(salt); !ok) return Fail(std::move(ok).error());
    // A null IV asks OpenSSL for a random one.
    X509_ALGOR* pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), salt, static_cast<int>(sizeof(salt)),
                                            nullptr, kScryptN, kScryptR, kScryptP);
    if (pbe == nullptr) return ossl::FailWithErrors(Errc::kInternal, "cannot set up scrypt");
    // On success PKCS8_set0_pbe owns `pbe`; on failure it is still ours.
    std::unique_ptr<X509_SIG, X509SigDeleter> encrypted(
        PKCS8_set0_pbe(passphrase.data(), static_cast<int>(passphrase.size()), info.get(), pbe));
    if (!encrypted) {
      X509_ALGOR_free(pbe);
      return ossl::FailWithErrors(Errc::kInternal, "cannot encrypt the private key");
    }
    if (PEM_write_bio_PKCS8(bio.get(), encrypted.get()) != 1) {
      return ossl::FailWithErrors(Errc::kInternal, "cannot write the private key");
    }
  }
  // The memory BIO clears its buffer when freed (BUF_MEM_free uses OPENSSL_clear_free), so the
  // returned string is the only copy left.
  return ossl::MemBioContents(bio.get());
}

KeyType PrivateKey::type() const noexcept { return handle_ ? handle_->type : public_.type(); }

Result<Bytes> PrivateKey::Sign(ByteView message) const {
  if (!handle_) return Fail(Errc::kInvalidArgument, "no private key to sign with");
  ossl::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit_ex(ctx.get(), &pctx, DigestName(handle_->type), nullptr, nullptr,
                                    handle_->pkey.get(), nullptr) != 1) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot set up signing");
  }
  if (handle_->type == KeyType::kRsa && !SetPss(pctx, kPssSignSaltLength)) {
    return ossl::FailWithErrors(Errc::kInternal, "cannot set up RSA-PSS");
  }
  // EVP_PKEY_get_size is the largest signature the key makes (DER ECDSA may come out shorter).
  // Sizing the buffer up front avoids a length query, which for some algorithms would feed
  // the message into the digest twice.
  int max_size = EVP_PKEY_get_size(handle_->pkey.get());
  if (max_size <= 0) return ossl::FailWithErrors(Errc::kInternal, "unknown signature size");
  Bytes signature(static_cast<std::size_t>(max_size));
  std::size_t len = signature.size();
  if (EVP_DigestSign(ctx.get(), signature.data(), &len, DataOrEmpty(message), message.size()) !=
      1) {
    return ossl::FailWithErrors(Errc::kInternal, "signing failed");
  }
  signature.resize(len);
  return signature;
}

}  // namespace aloft::core::crypto
