#include "cli/aloftctl/keys/online_keys.hpp"

namespace aloft::cli::aloftctl::keys {
namespace {

using core::codec::Json;

Result<core::crypto::PublicKey> ParseOne(const Json& document, std::string_view role) {
  const std::string what = "online keys: '" + std::string(role) + "'";
  const Json* entry = document.Find(role);
  if (entry == nullptr || !entry->IsObject()) {
    return Fail(Errc::kInvalidArgument, what +
                                            " is missing (expected the output of "
                                            "`aloftctl online-keys` or `aloftd repo-keys`)");
  }
  auto keyid = core::codec::GetString(*entry, "keyid");
  if (!keyid) return Fail(std::move(keyid).error().WithContext(what));
  const Json* key_json = entry->Find("key");
  if (key_json == nullptr) return Fail(Errc::kInvalidArgument, what + " has no 'key'");
  auto key = core::crypto::PublicKey::FromTufJson(*key_json);
  if (!key) return Fail(std::move(key).error().WithContext(what));
  if (key->ComputeKeyId() != *keyid) {
    return Fail(Errc::kInvalidArgument, what + ": keyid " + *keyid +
                                            " is not the id of the key given (" +
                                            key->ComputeKeyId() + ")");
  }
  return key;
}

}  // namespace

Result<OnlinePublicKeys> ParseOnlineKeys(const Json& document) {
  if (!document.IsObject()) return Fail(Errc::kInvalidArgument, "online keys: not a JSON object");
  auto snapshot = ParseOne(document, "snapshot");
  if (!snapshot) return Fail(snapshot.error());
  auto timestamp = ParseOne(document, "timestamp");
  if (!timestamp) return Fail(timestamp.error());
  if (snapshot->SameKeyAs(*timestamp)) {
    return Fail(Errc::kInvalidArgument, "online keys: snapshot and timestamp are the same key");
  }
  return OnlinePublicKeys{std::move(*snapshot), std::move(*timestamp)};
}

Result<OnlinePublicKeys> ParseOnlineKeysText(std::string_view text) {
  auto document = core::codec::ParseJson(text);
  if (!document) return Fail(std::move(document).error().WithContext("online keys"));
  return ParseOnlineKeys(*document);
}

}  // namespace aloft::cli::aloftctl::keys
