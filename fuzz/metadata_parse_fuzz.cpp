// TUF/Uptane metadata parsing: every role's parser on the same bytes, then what the client does
// with parsed targets (delegation lookups, Uptane custom members). Invariants:
//  - at most one role parser accepts a document (each checks "_type");
//  - what a parser accepts is self-consistent: `canonical` is the canonical form of the signed
//    object, PeekVersionUntrusted agrees, the version is positive;
//  - typed content round-trips: an envelope re-made from ToJson(content) and the signatures
//    parses again to the same content;
//  - delegation lookups hold up for every listed target path: a succinct (hash-bin) role
//    computed for a path is one of its bins, and every role RolesForTarget names has keys;
//  - Uptane custom members that parse round-trip through their ToJson.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/codec/json.hpp"
#include "core/metadata/delegation.hpp"
#include "core/metadata/model.hpp"
#include "core/uptane/target_custom.hpp"
#include "fuzz/check.hpp"

namespace {

using aloft::ByteView;
using aloft::core::codec::CanonicalJson;
using aloft::core::codec::Json;
using aloft::fuzz::Check;
namespace md = aloft::core::metadata;
namespace uptane = aloft::core::uptane;

template <class T, class Parse>
bool CheckRole(ByteView bytes, Parse parse) {
  auto parsed = parse(bytes);
  if (!parsed) return false;
  const md::Untrusted<T>& u = *parsed;
  Check(u.canonical == CanonicalJson(u.signed_json), "canonical bytes are the signed object's");
  Check(u.content.common.version > 0, "versions are positive");
  auto peeked = md::PeekVersionUntrusted(bytes);
  Check(peeked.has_value() && *peeked == u.content.common.version, "PeekVersion agrees");

  Json::Array signatures;
  for (const md::Signature& s : u.signatures) {
    signatures.emplace_back(Json::Object{{"keyid", s.keyid}, {"sig", s.sig}});
  }
  const Json typed = md::ToJson(u.content);
  const Json envelope = Json::Object{{"signatures", std::move(signatures)}, {"signed", typed}};
  auto again = parse(aloft::AsBytes(md::Serialize(envelope)));
  Check(again.has_value(), "an envelope of the typed content parses");
  Check(md::ToJson(again->content) == typed, "typed content round-trips");
  Check(again->signatures.size() == u.signatures.size(), "signatures round-trip");
  return true;
}

template <class Custom, class Parse>
void CheckCustom(const Json& custom, Parse parse) {
  auto parsed = parse(custom);
  if (!parsed) return;
  const Json written = uptane::ToJson(*parsed);
  auto again = parse(written);
  Check(again.has_value(), "written custom parses");
  Check(uptane::ToJson(*again) == written, "custom round-trips");
}

void CheckTargets(const md::TargetsMetadata& targets) {
  for (const auto& [path, file] : targets.targets) {
    CheckCustom<uptane::ImageCustom>(file.custom, uptane::ParseImageCustom);
    CheckCustom<uptane::DirectorCustom>(file.custom, uptane::ParseDirectorCustom);
    if (!targets.delegations) continue;
    const md::Delegations& d = *targets.delegations;
    if (d.succinct) {
      const std::string bin = md::SuccinctRoleFor(*d.succinct, path);
      Check(md::IsSuccinctRole(*d.succinct, bin), "a path's hash bin is one of the bins");
    }
    for (const md::ChildRole& child : md::RolesForTarget(d, path)) {
      Check(child.keys != nullptr, "a role a target is delegated to has keys");
      Check(md::FindDelegatedRoleKeys(d, child.name) != nullptr, "its keys can be found by name");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView bytes(data, size);
  int accepted = 0;
  accepted += CheckRole<md::RootMetadata>(bytes, md::ParseRoot);
  accepted += CheckRole<md::TimestampMetadata>(bytes, md::ParseTimestamp);
  accepted += CheckRole<md::SnapshotMetadata>(bytes, md::ParseSnapshot);
  if (auto targets = md::ParseTargets(bytes)) CheckTargets(targets->content);
  accepted += CheckRole<md::TargetsMetadata>(bytes, md::ParseTargets);
  Check(accepted <= 1, "at most one role parser accepts a document");
  return 0;
}
