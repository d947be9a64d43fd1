#pragma once

// aloftd's configuration: a TOML file, with environment overrides (ALOFTD_<SECTION>_<KEY>,
// e.g. ALOFTD_SERVER_LISTEN), validated as a whole. aloftd refuses to start with an unsafe
// configuration and says why; CheckSafety() holds those rules.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/base/result.hpp"

namespace aloft::server::config {

enum class ClientCertMode : std::uint8_t { kNone, kOptional, kRequired };

struct ServerConfig {
  // [server]
  std::string listen_address = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  std::string public_url;         // how devices reach us; the audience of device auth
  bool behind_tls_proxy = false;  // plain HTTP here, TLS terminated by a proxy in front
  unsigned threads = 2;
  // The per-request access log on stderr. Errors and security events are logged either way;
  // off suits a proxy in front that logs requests already (and the check-in benchmark, whose
  // nginx baseline runs with access_log off).
  bool access_log = true;
  std::chrono::seconds shutdown_drain{10};

  // [tls] (required unless behind_tls_proxy)
  std::filesystem::path tls_cert_file;
  std::filesystem::path tls_key_file;
  std::filesystem::path tls_client_ca_file;  // mutual TLS for devices (optional)
  ClientCertMode client_certs = ClientCertMode::kNone;
  unsigned tls_session_tickets = 1;  // TLS 1.3 tickets per full handshake (http::TlsConfig)

  // [storage]
  std::filesystem::path data_dir = "/var/lib/aloftd";

  // [limits]
  double per_ip_requests_per_second = 50;
  double per_ip_burst = 200;
  double per_device_requests_per_second = 2;
  double per_device_burst = 30;
  std::chrono::seconds device_token_lifetime{900};
  // How often the fleet history (image versions over time) takes a sample.
  std::chrono::seconds fleet_sample_interval{3600};
  std::int64_t max_artifact_bytes = std::int64_t{8} << 30;
  std::filesystem::path metrics_token_file;  // empty: /metrics for loopback clients only
  // The key-encryption key of the online signing keys; empty: <data_dir>/kek. The
  // environment variable ALOFTD_KEK, when set, is the KEK itself and wins.
  std::filesystem::path kek_file;
  std::filesystem::path console_dir;  // the built web console (web/dist); empty: not served
  // Deltas aloftd builds itself (server/deltas) for releases uploaded without one.
  bool deltas_enabled = true;
  std::int64_t delta_max_image_bytes = std::int64_t{1} << 30;
  int delta_level = 19;
  std::filesystem::path kek_path() const { return kek_file.empty() ? data_dir / "kek" : kek_file; }

  std::filesystem::path database_path() const { return data_dir / "aloft.db"; }
  std::filesystem::path blob_dir() const { return data_dir / "blobs"; }
  std::filesystem::path secrets_dir() const { return data_dir / "secrets"; }
  std::filesystem::path delta_work_dir() const { return data_dir / "delta-work"; }
};

// Parses `toml_text` (`source` names it in messages) and applies `environment` overrides.
// Unknown sections and keys are errors (a typo must not silently fall back to a default).
// Errors are kInvalidArgument and name the file, the key and what is wrong.
Result<ServerConfig> ParseServerConfig(std::string_view toml_text, std::string_view source,
                                       const std::map<std::string, std::string>& environment);
// Reads the file and the process environment.
Result<ServerConfig> LoadServerConfig(const std::filesystem::path& path);

// The rules aloftd will not run without: plain HTTP only on a loopback address or behind a
// TLS-terminating proxy; TLS key and files present; the TLS key not readable by others; the
// data directory not readable by others. Returns every violation in one message.
Status CheckSafety(const ServerConfig& config);

// The documentation of every key, for `aloftd --help` and docs/operations.md.
std::string ConfigReference();

}  // namespace aloft::server::config
