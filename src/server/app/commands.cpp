// aloftd's one-shot commands: init and server-host administration.

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/keys.hpp"
#include "core/crypto/x509.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"
#include "platform/posix/system_clock.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/database.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/app/app.hpp"
#include "server/app/kek.hpp"
#include "server/audit/sqlite/sqlite_audit_log.hpp"
#include "server/operators/operator_service.hpp"
#include "server/operators/sqlite/sqlite_operator_store.hpp"
#include "server/devices/enrollment_service.hpp"
#include "server/repo/online_keys.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"

namespace aloft::server::app {
namespace {

namespace fs = std::filesystem;
using core::crypto::KeyType;
using core::crypto::PrivateKey;

Result<std::unique_ptr<platform::sqlite::ConnectionPool>> OpenMigrated(
    const config::ServerConfig& config) {
  auto pool = platform::sqlite::ConnectionPool::Open(config.database_path(), {}, 1);
  if (!pool) return Fail(std::move(pool).error().WithContext("database"));
  auto lease = (*pool)->Acquire(std::chrono::seconds(10));
  if (!lease) return Fail(lease.error());
  auto migrated = platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease);
  if (!migrated) return Fail(migrated.error());
  return std::move(*pool);
}

bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// The host part of a URL ("https://host:port/x" → "host").
std::string UrlHost(std::string_view url) {
  std::size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view rest = url.substr(start);
  if (rest.starts_with("[")) return std::string(rest.substr(1, rest.find(']') - 1));
  return std::string(rest.substr(0, rest.find_first_of(":/")));
}

bool LooksLikeIp(std::string_view host) {
  return !host.empty() && (host.find(':') != std::string_view::npos ||
                           host.find_first_not_of("0123456789.") == std::string_view::npos);
}

Status GenerateTls(const config::ServerConfig& config, std::ostringstream& summary) {
  if (config.tls_cert_file.empty() || config.tls_key_file.empty()) {
    return Fail(Errc::kInvalidArgument, "--generate-tls needs tls.cert_file and tls.key_file");
  }
  if (Exists(config.tls_cert_file) || Exists(config.tls_key_file)) {
    return Fail(Errc::kAlreadyExists, "TLS files exist already; not overwriting them");
  }
  auto ca_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  auto server_key = PrivateKey::Generate(KeyType::kEcdsaP256);
  if (!ca_key || !server_key) return Fail(Errc::kInternal, "key generation failed");
  auto ca = core::crypto::MakeSelfSignedCaPem(*ca_key, "Aloft local CA",
                                              std::chrono::hours(24 * 3650));
  if (!ca) return Fail(ca.error());
  core::crypto::CertificateRequest request;
  std::string host = UrlHost(config.public_url);
  request.common_name = host.empty() ? "aloftd" : host;
  for (const std::string& h : {host, config.listen_address, std::string("127.0.0.1")}) {
    if (h.empty() || h == "0.0.0.0" || h == "::") continue;
    auto& list = LooksLikeIp(h) ? request.ip_addresses : request.dns_names;
    if (std::find(list.begin(), list.end(), h) == list.end()) list.push_back(h);
  }
  request.dns_names.push_back("localhost");
  request.server_auth = true;
  request.validity = std::chrono::hours(24 * 825);
  auto cert = core::crypto::IssueCertificatePem(*ca_key, *ca, server_key->Public(), request);
  if (!cert) return Fail(cert.error());
  auto server_pem = server_key->ToPem();
  auto ca_pem = ca_key->ToPem();
  if (!server_pem || !ca_pem) return Fail(Errc::kInternal, "cannot encode keys");
  fs::path ca_cert_file = config.tls_cert_file.parent_path() / "ca.pem";
  fs::path ca_key_file = config.secrets_dir() / "ca.key";
  for (Status s : {platform::posix::SavePrivateKeyFile(config.tls_key_file, *server_pem),
                   platform::posix::AtomicWriteFile(config.tls_cert_file, AsBytes(*cert + *ca)),
                   platform::posix::AtomicWriteFile(ca_cert_file, AsBytes(*ca)),
                   platform::posix::SavePrivateKeyFile(ca_key_file, *ca_pem)}) {
    if (!s) return s;
  }
  summary << "TLS: certificate " << config.tls_cert_file.string() << " for "
          << request.common_name << ", signed by a new CA " << ca_cert_file.string()
          << " (give this file to devices as their CA bundle)\n";
  return Ok();
}

// The first admin, unless operators exist already (init is safe to run again).
Status CreateFirstAdmin(const config::ServerConfig& config, platform::sqlite::ConnectionPool& pool,
                        std::string_view kek, const InitOptions& options,
                        std::ostringstream& summary) {
  (void)config;
  platform::posix::SystemClock clock;
  audit::sqlite::SqliteAuditLog audit(pool, clock);
  operators::sqlite::SqliteOperatorStore store(pool);
  auto cipher = operators::TotpSeedCipher::Create(kek);
  if (!cipher) return Fail(std::move(cipher).error().WithContext("TOTP seed key"));
  auto service = operators::OperatorService::Create(store, audit, clock, std::move(*cipher));
  if (!service) return Fail(service.error());
  auto password = (*service)->CreateFirstAdmin(options.admin_username);
  if (!password) {
    if (password.error().code() == Errc::kAlreadyExists) {
      summary << "operators: kept the existing accounts\n";
      return Ok();
    }
    return Fail(std::move(password).error().WithContext("first admin"));
  }
  if (!options.admin_password_file.empty()) {
    if (Status s = platform::posix::SavePrivateKeyFile(options.admin_password_file, *password + "\n");
        !s) {
      return Fail(std::move(s).error().WithContext("admin password file"));
    }
    summary << "operators: created '" << options.admin_username
            << "' (admin); one-time password in " << options.admin_password_file.string() << "\n";
  } else {
    summary << "operators: created '" << options.admin_username
            << "' (admin) with the one-time password " << *password
            << "\n  (shown once; change it at first sign-in: aloftctl login)\n";
  }
  return Ok();
}

}  // namespace

Result<std::string> Init(const config::ServerConfig& config, const InitOptions& options) {
  std::ostringstream summary;
  for (const fs::path& dir : {config.data_dir, config.secrets_dir()}) {
    if (Status s = platform::posix::EnsurePrivateDirectory(dir); !s) return Fail(s.error());
  }
  fs::path token_key = config.secrets_dir() / "token.key";
  if (Exists(token_key)) {
    summary << "token key: kept the existing " << token_key.string() << "\n";
  } else {
    Bytes key(32);
    if (Status s = core::crypto::RandomBytes(key); !s) return Fail(s.error());
    // Stored as hex so the file is plain text; mode 0600 in a 0700 directory.
    if (Status s = platform::posix::SavePrivateKeyFile(token_key, HexEncode(key)); !s) {
      return Fail(s.error());
    }
    summary << "token key: created " << token_key.string() << "\n";
  }
  if (options.generate_tls) {
    if (Status s = GenerateTls(config, summary); !s) return Fail(s.error());
  }
  bool kek_created = false;
  auto kek = LoadOrCreateKek(config, kek_created);
  if (!kek) return Fail(kek.error());
  summary << "key-encryption key: "
          << (kek_created ? "created " + config.kek_path().string()
                          : std::string("kept the existing one"))
          << "\n";
  auto online = repo::OnlineKeys::LoadOrCreate(config.secrets_dir(), *kek);
  if (!online) return Fail(std::move(online).error().WithContext("online keys"));
  summary << "online keys: " << config.secrets_dir().string()
          << " (aloftd repo-keys prints what the offline Image root must list)\n";
  auto pool = OpenMigrated(config);
  if (!pool) return Fail(pool.error());
  summary << "database: " << config.database_path().string() << " ready\n";
  if (Status s = CreateFirstAdmin(config, **pool, *kek, options, summary); !s) {
    return Fail(s.error());
  }
  return summary.str();
}

Result<std::string> Backup(const config::ServerConfig& config, const fs::path& dest) {
  if (Status s = platform::posix::EnsurePrivateDirectory(dest); !s) return Fail(s.error());
  auto pool = OpenMigrated(config);
  if (!pool) return Fail(pool.error());
  {
    auto lease = (*pool)->Acquire(std::chrono::seconds(30));
    if (!lease) return Fail(lease.error());
    if (Status s = platform::sqlite::BackupTo(**lease, dest / "aloft.db"); !s) {
      return Fail(std::move(s).error().WithContext("database backup"));
    }
  }
  std::size_t blobs = 0;
  std::error_code ec;
  // Only committed blobs (<blob_dir>/sha256/...); tmp/ holds uploads in progress.
  const fs::path source = config.blob_dir();
  if (fs::exists(source / "sha256", ec)) {
    for (const auto& entry : fs::recursive_directory_iterator(source / "sha256", ec)) {
      if (!entry.is_regular_file()) continue;
      const fs::path relative = fs::relative(entry.path(), source, ec);
      if (ec) return Fail(Errc::kIo, "blob backup: " + ec.message());
      const fs::path target = dest / "blobs" / relative;
      fs::create_directories(target.parent_path(), ec);
      if (ec) return Fail(Errc::kIo, "blob backup: " + ec.message());
      if (fs::exists(target)) continue;  // content-addressed: same name, same bytes
      fs::create_hard_link(entry.path(), target, ec);
      if (ec) {
        ec.clear();
        fs::copy_file(entry.path(), target, ec);
        if (ec) return Fail(Errc::kIo, "blob backup: " + target.string() + ": " + ec.message());
      }
      ++blobs;
    }
    if (ec) return Fail(Errc::kIo, "blob backup: " + ec.message());
  }
  return "database: " + (dest / "aloft.db").string() + "\nblobs: " + std::to_string(blobs) +
         " new in " + (dest / "blobs").string() +
         "\nnot included: " + config.secrets_dir().string() + " and the key-encryption key " +
         "(back them up separately)\n";
}

Result<std::string> OnlinePublicKeys(const config::ServerConfig& config) {
  auto kek = LoadKek(config);
  if (!kek) return Fail(kek.error());
  auto keys = repo::OnlineKeys::LoadOrCreate(config.secrets_dir(), *kek);
  if (!keys) return Fail(keys.error());
  // What an operator puts into the offline Image root for the snapshot and timestamp roles.
  core::codec::Json out = core::codec::Json::Object{
      {"snapshot", core::codec::Json::Object{{"keyid", keys->image_snapshot.KeyId()},
                                             {"key", keys->image_snapshot.Public().ToTufJson()}}},
      {"timestamp",
       core::codec::Json::Object{{"keyid", keys->image_timestamp.KeyId()},
                                 {"key", keys->image_timestamp.Public().ToTufJson()}}}};
  return core::codec::DumpJson(out, true) + "\n";
}

Result<std::string> CreateEnrollmentToken(const config::ServerConfig& config, int uses,
                                          std::chrono::hours validity) {
  auto pool = OpenMigrated(config);
  if (!pool) return Fail(pool.error());
  store::sqlite::SqliteDeviceStore store(**pool);
  platform::posix::SystemClock clock;
  devices::EnrollmentService service(store, store, clock);
  auto token = service.CreateEnrollmentToken(validity, uses);
  if (!token) return Fail(token.error());
  return token->secret;
}

Status DeviceDecision(const config::ServerConfig& config, std::string_view device_id,
                      std::string_view decision) {
  auto pool = OpenMigrated(config);
  if (!pool) return Fail(pool.error());
  store::sqlite::SqliteDeviceStore store(**pool);
  platform::posix::SystemClock clock;
  devices::EnrollmentService service(store, store, clock);
  if (decision == "accept") return service.Accept(device_id);
  if (decision == "reject") return service.Reject(device_id);
  if (decision == "decommission") return service.Decommission(device_id);
  return Fail(Errc::kInvalidArgument, "decision must be accept, reject or decommission");
}

Result<std::string> ListDevices(const config::ServerConfig& config, bool json) {
  auto pool = OpenMigrated(config);
  if (!pool) return Fail(pool.error());
  store::sqlite::SqliteDeviceStore store(**pool);
  store::DeviceFilter filter;
  filter.limit = 1000;
  auto devices = store.ListDevices(filter);
  if (!devices) return Fail(devices.error());
  if (json) {
    core::codec::Json::Array out;
    for (const auto& d : *devices) {
      out.push_back(core::codec::Json::Object{
          {"id", d.id},
          {"hardwareId", d.hardware_id},
          {"status", std::string(core::wire::EnrollmentStatusName(d.status))},
          {"imageVersion", d.inventory.image_version}});
    }
    return core::codec::DumpJson(out, true) + "\n";
  }
  std::ostringstream table;
  table << "DEVICE                          HARDWARE        STATUS          VERSION\n";
  for (const auto& d : *devices) {
    char line[256];
    std::snprintf(line, sizeof line, "%-31s %-15s %-15s %s\n", d.id.c_str(),
                  d.hardware_id.c_str(),
                  std::string(core::wire::EnrollmentStatusName(d.status)).c_str(),
                  d.inventory.image_version.c_str());
    table << line;
  }
  return table.str();
}

}  // namespace aloft::server::app
