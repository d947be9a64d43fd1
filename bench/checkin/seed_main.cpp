// aloft-bench-seed: a fleet for the check-in benchmark and the load suite, without
// 100,000 round trips through the API.
//
//   aloft-bench-seed enroll --data-dir DIR --devices N [--hardware ID]
//       Enrolls devices bench-000000 ... in the database of an aloftd data directory (made by
//       `aloftd init`, the server stopped) through aloftd's own code: each device gets its
//       own ed25519 key, an operator preauthorizes the key (EnrollmentService::PreauthorizeKey)
//       and the device enrolls with it (EnrollmentService::Enroll → accepted), then reports
//       an inventory (DeviceStore::RecordInventory). Devices that exist already are kept, so
//       a larger fleet grows from a smaller one.
//   aloft-bench-seed tokens --data-dir DIR --devices N --out FILE
//       Mints a device token for each of those devices with the server's TokenService and
//       token key (DIR/secrets/token.key), one per line: what POST /api/v1/device/auth would
//       answer after the device's signature. The server verifies them exactly as it verifies
//       any device token (MAC, kind, expiry), then looks the device up.

#include <cstdio>
#include <iostream>
#include <string>

#include "core/base/hex.hpp"
#include "core/crypto/keys.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"
#include "platform/posix/system_clock.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/auth/token_service.hpp"
#include "server/devices/enrollment_service.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"

namespace {

using namespace aloft;  // NOLINT: a bench program's main file

struct Args {
  std::string command;
  std::filesystem::path data_dir;
  std::filesystem::path out;
  std::string hardware = "bench-board";
  long devices = 0;
  long lifetime_s = 3600;
};

std::string DeviceId(long i) {
  char id[32];
  std::snprintf(id, sizeof id, "bench-%06ld", i);
  return id;
}

int Enroll(const Args& a) {
  auto pool = platform::sqlite::ConnectionPool::Open(a.data_dir / "aloft.db", {}, 1);
  if (!pool) {
    std::cerr << "seed: " << pool.error().ToString() << " (run aloftd init first)\n";
    return 1;
  }
  {
    auto lease = (*pool)->Acquire(std::chrono::seconds(10));
    if (!lease) return std::cerr << "seed: " << lease.error().ToString() << "\n", 1;
    auto migrated =
        platform::sqlite::Migrator(server::store::sqlite::ServerMigrations()).Migrate(**lease);
    if (!migrated) return std::cerr << "seed: " << migrated.error().ToString() << "\n", 1;
  }
  server::store::sqlite::SqliteDeviceStore store(**pool);
  platform::posix::SystemClock clock;
  server::devices::EnrollmentService enrollment(store, store, clock);
  long created = 0;
  for (long i = 0; i < a.devices; ++i) {
    const std::string id = DeviceId(i);
    if (store.GetDevice(id)) continue;
    auto key = core::crypto::PrivateKey::Generate(core::crypto::KeyType::kEd25519);
    if (!key) return std::cerr << "seed: " << key.error().ToString() << "\n", 1;
    const core::codec::Json& public_key = key->Public().ToTufJson();
    if (Status s = enrollment.PreauthorizeKey(id, a.hardware, public_key); !s) {
      return std::cerr << "seed: preauthorize " << id << ": " << s.error().ToString() << "\n", 1;
    }
    core::wire::EnrollRequest request{id, a.hardware, public_key, ""};
    auto enrolled = enrollment.Enroll(request);
    if (!enrolled || enrolled->status != core::wire::EnrollmentStatus::kAccepted) {
      std::cerr << "seed: enroll " << id << ": "
                << (enrolled ? "not accepted" : enrolled.error().ToString()) << "\n";
      return 1;
    }
    core::wire::Inventory inventory;
    inventory.hardware_id = a.hardware;
    inventory.image_version = "1.0.0";
    inventory.image_sha256 = std::string(64, 'a');
    inventory.agent_version = "0.1.0";
    inventory.attributes = {{"site", "bench-" + std::to_string(i % 16)}};
    const Timestamp now = std::chrono::floor<std::chrono::seconds>(clock.Now());
    if (Status s = store.RecordInventory(id, inventory, now); !s) {
      return std::cerr << "seed: inventory " << id << ": " << s.error().ToString() << "\n", 1;
    }
    if (++created % 10000 == 0) std::cerr << "seed: " << created << " devices enrolled\n";
  }
  std::cout << "seed: " << a.devices << " devices (" << created << " new) in "
            << (a.data_dir / "aloft.db").string() << "\n";
  return 0;
}

int Tokens(const Args& a) {
  auto hex = platform::posix::ReadPrivateKeyFile(a.data_dir / "secrets" / "token.key");
  if (!hex) return std::cerr << "seed: " << hex.error().ToString() << "\n", 1;
  std::string text = *hex;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  auto key = HexDecode(text);
  if (!key) return std::cerr << "seed: token.key is not hex\n", 1;
  platform::posix::SystemClock clock;
  auto tokens = server::auth::TokenService::Create(std::move(*key), clock,
                                                   std::chrono::seconds(a.lifetime_s));
  if (!tokens) return std::cerr << "seed: " << tokens.error().ToString() << "\n", 1;
  std::string out;
  for (long i = 0; i < a.devices; ++i) {
    auto token = tokens->Issue("device", DeviceId(i));
    if (!token) return std::cerr << "seed: " << token.error().ToString() << "\n", 1;
    out += *token;
    out += '\n';
  }
  // The tokens are credentials: 0600, like every secret aloftd writes.
  if (Status s = platform::posix::SavePrivateKeyFile(a.out, out); !s) {
    return std::cerr << "seed: " << s.error().ToString() << "\n", 1;
  }
  std::cout << "seed: " << a.devices << " device tokens in " << a.out.string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc >= 2) a.command = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--data-dir") a.data_dir = value;
    else if (flag == "--devices") a.devices = std::atol(value.c_str());
    else if (flag == "--hardware") a.hardware = value;
    else if (flag == "--out") a.out = value;
    else if (flag == "--lifetime") a.lifetime_s = std::atol(value.c_str());
    else a.command = "";
  }
  if ((a.command != "enroll" && a.command != "tokens") || a.data_dir.empty() || a.devices <= 0 ||
      (a.command == "tokens" && a.out.empty())) {
    std::cerr << "usage: aloft-bench-seed enroll --data-dir DIR --devices N [--hardware ID]\n"
                 "       aloft-bench-seed tokens --data-dir DIR --devices N --out FILE"
                 " [--lifetime SECONDS]\n";
    return 2;
  }
  return a.command == "enroll" ? Enroll(a) : Tokens(a);
}
