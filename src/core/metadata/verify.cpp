#include "core/metadata/verify.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "core/base/hex.hpp"

namespace aloft::core::metadata {

Status VerifyThreshold(std::string_view role_name, std::string_view canonical,
                       const std::vector<Signature>& signatures, const KeyRing& keys,
                       const RoleKeys& role) {
  std::vector<const crypto::PublicKey*> counted;
  std::set<std::string_view> counted_ids;
  for (const Signature& sig : signatures) {
    if (std::find(role.keyids.begin(), role.keyids.end(), sig.keyid) == role.keyids.end()) {
      continue;  // not a key of this role
    }
    if (!counted_ids.insert(sig.keyid).second) continue;
    auto it = keys.find(sig.keyid);
    if (it == keys.end() || !it->second.key) continue;  // unknown or unsupported key
    const crypto::PublicKey& key = *it->second.key;
    auto raw = HexDecode(sig.sig);
    if (!raw || raw->empty()) continue;
    if (!key.Verify(AsBytes(canonical), *raw)) continue;
    bool same_key_counted = false;
    for (const crypto::PublicKey* other : counted) {
      if (other->SameKeyAs(key)) same_key_counted = true;
    }
    if (!same_key_counted) counted.push_back(&key);
  }
  if (static_cast<std::int64_t>(counted.size()) < role.threshold) {
    return Fail(Errc::kVerificationFailed,
                std::string(role_name) + " has " + std::to_string(counted.size()) +
                    " valid signature(s) from distinct keys, threshold is " +
                    std::to_string(role.threshold));
  }
  return Ok();
}

Result<PayloadVerifier> PayloadVerifier::Create(std::string what, std::int64_t length,
                                                const Hashes& hashes) {
  if (length < 0) return Fail(Errc::kVerificationFailed, what + ": negative length");
  PayloadVerifier v(std::move(what), static_cast<std::uint64_t>(length));
  for (const auto& [name, hex] : hashes) {
    auto alg = crypto::ParseHashAlgorithm(name);
    if (!alg) continue;  // an algorithm we do not know neither helps nor hurts
    auto digest = HexDecode(hex);
    if (!digest || digest->size() != crypto::DigestSize(*alg)) {
      return Fail(Errc::kVerificationFailed, v.what_ + ": " + name + " hash is malformed");
    }
    v.expected_.push_back({crypto::Hasher(*alg), std::move(*digest), name});
  }
  if (v.expected_.empty()) {
    return Fail(Errc::kVerificationFailed, v.what_ + ": no supported hash algorithm listed");
  }
  return v;
}

Status PayloadVerifier::Update(ByteView data) {
  if (data.size() > length_ - received_) {
    return Fail(Errc::kTooLarge, what_ + ": more than the expected " + std::to_string(length_) +
                                     " bytes");
  }
  received_ += data.size();
  for (Expected& e : expected_) e.hasher.Update(data);
  return Ok();
}

Status PayloadVerifier::Finish() {
  if (received_ != length_) {
    return Fail(Errc::kVerificationFailed, what_ + ": length " + std::to_string(received_) +
                                               " does not match the expected " +
                                               std::to_string(length_));
  }
  for (Expected& e : expected_) {
    if (!crypto::ConstantTimeEqual(e.hasher.Finish(), e.digest)) {
      return Fail(Errc::kVerificationFailed, what_ + ": " + e.algorithm + " hash mismatch");
    }
  }
  return Ok();
}

Status VerifyLengthAndHashes(std::string_view what, ByteView data, std::int64_t length,
                             const Hashes& hashes) {
  auto v = PayloadVerifier::Create(std::string(what), length, hashes);
  if (!v) return Fail(v.error());
  if (Status s = v->Update(data); !s) {
    // Surplus bytes in a complete buffer are a length mismatch, not a stream cut short.
    return Fail(Errc::kVerificationFailed, s.error().message());
  }
  return v->Finish();
}

Status VerifyMetaFile(std::string_view what, ByteView data, const MetaFile& meta) {
  if (meta.length && static_cast<std::uint64_t>(*meta.length) != data.size()) {
    return Fail(Errc::kVerificationFailed,
                std::string(what) + ": length " + std::to_string(data.size()) +
                    " does not match the expected " + std::to_string(*meta.length));
  }
  if (meta.hashes) {
    return VerifyLengthAndHashes(what, data, static_cast<std::int64_t>(data.size()), *meta.hashes);
  }
  return Ok();
}

}  // namespace aloft::core::metadata
