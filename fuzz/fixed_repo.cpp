#include "fuzz/fixed_repo.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "core/metadata/model.hpp"

namespace aloft::fuzz {
namespace {

using core::crypto::PrivateKey;
namespace md = core::metadata;

// Generated once with `openssl genpkey -algorithm ed25519`. Test keys: they sign nothing but
// the fuzz corpus.
const std::map<std::string_view, std::string_view>& KeyPems() {
  static const std::map<std::string_view, std::string_view> kPems = {
      {"root",
       "-----BEGIN PRIVATE KEY-----\n"
       "MC4CAQAwBQYDK2VwBCIEIL+s7/LwPyHPYYGGEwOi1574f3IdPPGbqRkHYtG8Ak/k\n"
       "-----END PRIVATE KEY-----\n"},
      {"timestamp",
       "-----BEGIN PRIVATE KEY-----\n"
       "MC4CAQAwBQYDK2VwBCIEIBs1eAt+bbCHJJ7nHqBf8seDsT3GsGzqRQtIShZRActs\n"
       "-----END PRIVATE KEY-----\n"},
      {"snapshot",
       "-----BEGIN PRIVATE KEY-----\n"
       "MC4CAQAwBQYDK2VwBCIEIJa/yeiH8+DyFdCphc71j3GP+7+LfjSRGz3gnj4jhcdA\n"
       "-----END PRIVATE KEY-----\n"},
      {"targets",
       "-----BEGIN PRIVATE KEY-----\n"
       "MC4CAQAwBQYDK2VwBCIEIMpo/JF+2uqLQMwR4oyZNh6i7Y4OIQqbSGBWmg8pSd3f\n"
       "-----END PRIVATE KEY-----\n"},
      {"delegated",
       "-----BEGIN PRIVATE KEY-----\n"
       "MC4CAQAwBQYDK2VwBCIEIFaiHtESbQGGt91fmRmD/Fwf8jJyo2blrutJsJu9aZjj\n"
       "-----END PRIVATE KEY-----\n"},
  };
  return kPems;
}

// The fixture cannot work without its keys and root: a failure is a broken build, not input.
[[noreturn]] void Die(std::string_view what, const Error& error) {
  std::fprintf(stderr, "fixed_repo: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               error.ToString().c_str());
  std::abort();
}

std::map<std::string_view, PrivateKey> LoadKeys() {
  std::map<std::string_view, PrivateKey> keys;
  for (const auto& [role, pem] : KeyPems()) {
    auto key = PrivateKey::FromPem(pem);
    if (!key) Die(role, key.error());
    keys.emplace(role, std::move(*key));
  }
  return keys;
}

Bytes MakeRoot() {
  md::RootMetadata root;
  root.common = md::Common{std::string(md::kRoot), std::string(md::kSpecVersion), 1,
                           FixedRepoTime() + std::chrono::days(365)};
  root.consistent_snapshot = true;
  for (std::string_view role : {md::kRoot, md::kTimestamp, md::kSnapshot, md::kTargets}) {
    const PrivateKey& key = FixedKey(role);
    root.keys[key.KeyId()] = md::ToListedKey(key.Public());
    root.roles[std::string(role)] = md::RoleKeys{{key.KeyId()}, 1};
  }
  auto envelope = md::SignMetadata(md::ToJson(root), {FixedKey(md::kRoot)});
  if (!envelope) Die("sign root", envelope.error());
  return ToBytes(md::Serialize(*envelope));
}

}  // namespace

const PrivateKey& FixedKey(std::string_view role) {
  static const std::map<std::string_view, PrivateKey> kKeys = LoadKeys();
  auto it = kKeys.find(role);
  if (it == kKeys.end()) Die(role, Error(Errc::kNotFound, "no fixed key for this role"));
  return it->second;
}

Timestamp FixedRepoTime() {
  auto t = aloft::ParseTimestamp("2030-01-01T00:00:00Z");
  if (!t) Die("time", t.error());
  return *t;
}

Timestamp FixedReferenceTime() { return FixedRepoTime() + std::chrono::days(1); }

const Bytes& FixedTrustedRoot() {
  static const Bytes kRoot = MakeRoot();
  return kRoot;
}

}  // namespace aloft::fuzz
