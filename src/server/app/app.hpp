#pragma once

// aloftd assembled: configuration → database, stores, services, routes, HTTP server. The one
// place that names concrete adapters (SQLite, local files, the system clock), so main.cpp
// only parses the command line and tests can start a whole server in-process.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/base/result.hpp"
#include "server/config/server_config.hpp"

namespace aloft::server::app {

class Aloftd {
 public:
  // Opens (and migrates) the database, loads the secrets `Init` created, and starts serving.
  static Result<std::unique_ptr<Aloftd>> Start(const config::ServerConfig& config);
  ~Aloftd();
  Aloftd(const Aloftd&) = delete;
  Aloftd& operator=(const Aloftd&) = delete;

  std::uint16_t port() const noexcept;
  // Every route served, as "METHOD /pattern" (for the OpenAPI completeness test).
  std::vector<std::string> Routes() const;
  // Stops accepting, lets requests in flight finish within the configured drain time.
  void Stop();

  struct Parts;  // the wired services; defined in app.cpp

 private:
  explicit Aloftd(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// `aloftd init`: creates the data directory (0700), the database (migrated), the token key
// and, with generate_tls, a CA and a server certificate for the configured address (written
// where [tls] points, key files 0600). Refuses to overwrite existing secrets. Returns a
// summary for the operator.
struct InitOptions {
  bool generate_tls = false;
  // The first operator account (role admin), created when the database has no users yet. Its
  // one-time password is written to admin_password_file (0600) when set, else shown in the
  // summary; it must be changed at first sign-in. No account ever has a default password.
  std::string admin_username = "admin";
  std::filesystem::path admin_password_file;
};
Result<std::string> Init(const config::ServerConfig& config, const InitOptions& options);

// Server-host administration until the management API and aloftctl land: these open the
// database directly, so they need the same file access as aloftd itself.
Result<std::string> CreateEnrollmentToken(const config::ServerConfig& config, int uses,
                                          std::chrono::hours validity);
Status DeviceDecision(const config::ServerConfig& config, std::string_view device_id,
                      std::string_view decision);  // accept | reject | decommission
Result<std::string> ListDevices(const config::ServerConfig& config, bool json);
// `aloftd backup DEST`: a consistent copy of the database (SQLite online backup, safe while
// aloftd serves) at DEST/aloft.db (0600), and the artifact blobs hard-linked or copied into
// DEST/blobs (blobs are immutable and named by their hash, so copying them live is safe).
// The secrets directory and the KEK are NOT copied: back them up separately, to a different
// place (docs/operations.md). Returns a summary.
Result<std::string> Backup(const config::ServerConfig& config, const std::filesystem::path& dest);

// The public keys (TUF JSON, with key IDs) of the server's online Image snapshot and timestamp
// keys: the offline Image root must list them for those roles.
Result<std::string> OnlinePublicKeys(const config::ServerConfig& config);

}  // namespace aloft::server::app
