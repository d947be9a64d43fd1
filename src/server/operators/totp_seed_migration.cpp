#include "server/operators/totp_seed_migration.hpp"

#include <string>

namespace aloft::server::operators {

Result<std::int64_t> SealPlaintextTotpSeeds(OperatorStore& store, const TotpSeedCipher& cipher) {
  auto users = store.ListUsers();
  if (!users) return Fail(users.error());
  std::int64_t converted = 0;
  for (UserRow& user : *users) {
    for (bool pending : {false, true}) {
      Bytes& stored = pending ? user.totp_pending_secret : user.totp_secret;
      if (stored.empty() || TotpSeedCipher::IsSealed(stored)) continue;
      auto sealed = cipher.Seal(stored, user.username);
      if (!sealed)
        return Fail(std::move(sealed).error().WithContext("TOTP seed of " + user.username));
      auto replaced = store.ReplaceTotpSeed(user.username, pending, stored, *sealed);
      WipeSeed(stored);
      if (!replaced)
        return Fail(std::move(replaced).error().WithContext("TOTP seed of " + user.username));
      if (*replaced) ++converted;
    }
  }
  return converted;
}

}  // namespace aloft::server::operators
