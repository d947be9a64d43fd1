#include "security/forgery.hpp"

#include <zstd.h>

#include "core/metadata/model.hpp"
#include "server/repo/publishing.hpp"

namespace aloft::security {

using core::codec::Json;

Result<Bytes> ForgeArtifact(ByteView image, std::size_t length) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (cctx == nullptr) return Fail(Errc::kInternal, "ZSTD_createCCtx");
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  Bytes out(ZSTD_compressBound(image.size()));
  const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), image.data(), image.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) return Fail(Errc::kInternal, ZSTD_getErrorName(n));
  constexpr std::size_t kSkippableHeader = 8;
  if (n + kSkippableHeader > length) {
    return Fail(Errc::kInvalidArgument, "the forged image does not compress below the length");
  }
  out.resize(n);
  const std::size_t pad = length - n - kSkippableHeader;
  // Skippable frame: magic 0x184D2A50, then the payload size, both little-endian.
  for (std::uint32_t v : {std::uint32_t{0x184D2A50}, static_cast<std::uint32_t>(pad)}) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  out.resize(length, 0x00);
  return out;
}

Result<Json> SignedPart(ByteView envelope) {
  auto json = core::codec::ParseJson(AsChars(envelope));
  if (!json) return Fail(std::move(json).error());
  const Json* s = json->Find("signed");
  if (s == nullptr || !s->IsObject()) return Fail(Errc::kInvalidArgument, "no signed object");
  return *s;
}

namespace {
Result<std::int64_t> MetaVersion(const Json& signed_json, const std::string& file) {
  const Json* meta = signed_json.Find("meta");
  const Json* entry = meta != nullptr ? meta->Find(file) : nullptr;
  if (entry == nullptr) return Fail(Errc::kInvalidArgument, "meta lists no " + file);
  return core::codec::GetInt(*entry, "version");
}
}  // namespace

Result<ForgedChain> ForgeChain(ByteView timestamp, ByteView snapshot, Json targets_signed,
                               const core::crypto::PrivateKey& targets_key,
                               const core::crypto::PrivateKey& snapshot_key,
                               const core::crypto::PrivateKey& timestamp_key,
                               const std::string& prefix) {
  auto ts = SignedPart(timestamp);
  if (!ts) return Fail(ts.error());
  auto sn = SignedPart(snapshot);
  if (!sn) return Fail(sn.error());
  auto snapshot_version = MetaVersion(*ts, "snapshot.json");
  if (!snapshot_version) return Fail(snapshot_version.error());
  auto targets_version = MetaVersion(*sn, "targets.json");
  if (!targets_version) return Fail(targets_version.error());

  ForgedChain chain;
  chain.targets_version = *targets_version + 1;
  targets_signed["version"] = chain.targets_version;
  auto targets = server::repo::SignRole(targets_signed, targets_key);
  if (!targets) return Fail(targets.error());

  (*sn)["version"] = *snapshot_version + 1;
  (*sn)["meta"]["targets.json"] =
      core::metadata::ToJson(server::repo::DescribeFile(chain.targets_version, *targets));
  auto snap = server::repo::SignRole(*sn, snapshot_key);
  if (!snap) return Fail(snap.error());

  (*ts)["version"] = (*ts)["version"].AsInt() + 1;
  (*ts)["meta"]["snapshot.json"] =
      core::metadata::ToJson(server::repo::DescribeFile(*snapshot_version + 1, *snap));
  auto time = server::repo::SignRole(*ts, timestamp_key);
  if (!time) return Fail(time.error());

  chain.files[prefix + std::to_string(chain.targets_version) + ".targets.json"] = *targets;
  chain.files[prefix + std::to_string(*snapshot_version + 1) + ".snapshot.json"] = *snap;
  chain.files[prefix + "timestamp.json"] = *time;
  return chain;
}

}  // namespace aloft::security
