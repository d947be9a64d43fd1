#include "server/app/app.hpp"
#include "server/app/kek.hpp"

#include <iostream>

#include "core/base/hex.hpp"
#include "core/codec/json.hpp"
#include "core/wire/device_api.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"
#include "platform/posix/system_clock.hpp"
#include "platform/sqlite/connection_pool.hpp"
#include "platform/sqlite/migrator.hpp"
#include "server/api/artifact_routes.hpp"
#include "server/api/device_routes.hpp"
#include "server/api/health_routes.hpp"
#include "server/api/metrics_routes.hpp"
#include "server/api/repo_routes.hpp"
#include "server/auth/device_authenticator.hpp"
#include "server/auth/token_service.hpp"
#include "server/blobs/fs_object_store.hpp"
#include "core/crypto/hash.hpp"
#include "server/devices/enrollment_service.hpp"
#include "server/http/server.hpp"
#include "server/metrics/registry.hpp"
#include "server/repo/director_repository.hpp"
#include "server/repo/image_repository.hpp"
#include "server/repo/online_keys.hpp"
#include "server/repo/sqlite/sqlite_repo_store.hpp"
#include "server/store/sqlite/migrations.hpp"
#include "server/store/sqlite/sqlite_device_store.hpp"

namespace aloft::server::app {

namespace {
constexpr std::size_t kPoolSize = 4;

std::filesystem::path TokenKeyPath(const config::ServerConfig& c) {
  return c.secrets_dir() / "token.key";
}

// The structured access log: one JSON line per request on stderr.
void LogRequest(const http::RequestLog& r) {
  core::codec::Json line = core::codec::Json::Object{
      {"level", "info"},
      {"event", "request"},
      {"method", r.method},
      {"route", r.route},
      {"status", r.status},
      {"duration_us", static_cast<std::int64_t>(r.duration.count())},
      {"bytes", static_cast<std::int64_t>(r.body_bytes_sent)},
      {"peer", r.peer_address}};
  std::cerr << core::codec::DumpJson(line) + "\n";
}
}  // namespace

// Everything aloftd runs on, in construction order (destruction runs backwards: the HTTP
// server stops before the services it calls go away).
struct Aloftd::Parts {
  config::ServerConfig config;
  platform::posix::SystemClock clock;
  std::unique_ptr<platform::sqlite::ConnectionPool> pool;
  std::unique_ptr<store::sqlite::SqliteDeviceStore> store;
  std::unique_ptr<devices::EnrollmentService> enrollment;
  std::unique_ptr<devices::StoreDeviceDirectory> directory;
  std::unique_ptr<auth::DeviceAuthenticator> authenticator;
  std::unique_ptr<auth::TokenService> tokens;
  std::unique_ptr<http::RateLimiter> device_limit;
  std::unique_ptr<api::DeviceApiDeps> device_deps;
  std::unique_ptr<api::HealthDeps> health_deps;
  std::unique_ptr<repo::OnlineKeys> online_keys;
  std::unique_ptr<repo::sqlite::SqliteRepoStore> repo_store;
  std::unique_ptr<repo::ImageRepository> image_repo;
  std::unique_ptr<repo::DirectorRepository> director_repo;
  std::unique_ptr<api::RepoApiDeps> repo_deps;
  std::unique_ptr<blobs::FsObjectStore> blobs;
  std::unique_ptr<api::ArtifactDownloadDeps> artifact_download_deps;
  metrics::Registry metrics;
  metrics::CounterFamily* http_requests = nullptr;
  metrics::HistogramFamily* http_latency = nullptr;
  std::unique_ptr<api::MetricsDeps> metrics_deps;
  http::Router router;
  std::unique_ptr<http::HttpServer> server;
};

// Opens the database and brings its schema up to date.
static Result<std::unique_ptr<platform::sqlite::ConnectionPool>> OpenDatabase(
    const config::ServerConfig& config) {
  auto pool = platform::sqlite::ConnectionPool::Open(config.database_path(), {}, kPoolSize);
  if (!pool) return Fail(std::move(pool).error().WithContext("database"));
  auto lease = (*pool)->Acquire(std::chrono::seconds(10));
  if (!lease) return Fail(lease.error());
  auto report = platform::sqlite::Migrator(store::sqlite::ServerMigrations()).Migrate(**lease);
  if (!report) return Fail(std::move(report).error().WithContext("database migration"));
  return std::move(*pool);
}

// The request metrics the transport feeds and the /metrics route. Gauges over stored state
// are added where their stores are wired.
static Status RegisterMetrics(Aloftd::Parts& p) {
  p.http_requests = &p.metrics.Counter("aloft_http_requests_total",
                                       "HTTP requests by route and status.", {"route", "status"});
  p.http_latency = &p.metrics.Histogram(
      "aloft_http_request_duration_seconds", "Time from request head to response sent.",
      {"route"}, {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10});
  p.metrics.Gauge("aloft_devices", "Devices by enrollment status, hardware id and image version.",
                  {"status", "hardware_id", "image_version"}, [&p] {
                    std::vector<metrics::GaugeSample> out;
                    auto counts = p.store->CountDevices();
                    if (!counts) return out;
                    for (const auto& c : *counts) {
                      out.push_back({{std::string(core::wire::EnrollmentStatusName(c.status)),
                                      c.hardware_id, c.image_version},
                                     static_cast<double>(c.count)});
                    }
                    return out;
                  });
  std::string token_sha256;
  if (!p.config.metrics_token_file.empty()) {
    auto token = platform::posix::ReadPrivateKeyFile(p.config.metrics_token_file);
    if (!token) return Fail(std::move(token).error().WithContext("metrics.token_file"));
    std::string text = *token;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.size() < 16) {
      return Fail(Errc::kInvalidArgument, "metrics.token_file: the token must be at least 16 characters");
    }
    token_sha256 = core::crypto::Sha256Hex(ToBytes(text));
  }
  p.metrics_deps = std::make_unique<api::MetricsDeps>(api::MetricsDeps{p.metrics, token_sha256});
  return api::RegisterMetricsRoutes(p.router, *p.metrics_deps);
}

Result<std::unique_ptr<Aloftd>> Aloftd::Start(const config::ServerConfig& config) {
  if (Status s = config::CheckSafety(config); !s) return Fail(s.error());
  auto parts = std::make_unique<Parts>();
  Parts& p = *parts;
  p.config = config;
  auto pool = OpenDatabase(config);
  if (!pool) return Fail(pool.error());
  p.pool = std::move(*pool);
  p.store = std::make_unique<store::sqlite::SqliteDeviceStore>(*p.pool);
  p.enrollment = std::make_unique<devices::EnrollmentService>(*p.store, *p.store, p.clock);
  p.directory = std::make_unique<devices::StoreDeviceDirectory>(*p.store);
  p.authenticator = std::make_unique<auth::DeviceAuthenticator>(
      *p.directory, p.clock,
      auth::DeviceAuthenticator::Options{config.public_url, std::chrono::seconds(300), 1'000'000});

  auto key = platform::posix::ReadPrivateKeyFile(TokenKeyPath(config));
  if (!key) return Fail(std::move(key).error().WithContext("token key (run aloftd init)"));
  std::string hex = *key;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto raw = HexDecode(hex);
  if (!raw) return Fail(Errc::kCorrupt, "token key file is not hex; rerun aloftd init");
  auto tokens = auth::TokenService::Create(std::move(*raw), p.clock, config.device_token_lifetime);
  if (!tokens) return Fail(tokens.error());
  p.tokens = std::make_unique<auth::TokenService>(std::move(*tokens));
  p.device_limit = std::make_unique<http::RateLimiter>(
      p.clock, http::RateLimit{config.per_device_burst, config.per_device_requests_per_second,
                               1'000'000});
  p.device_deps = std::make_unique<api::DeviceApiDeps>(api::DeviceApiDeps{
      *p.enrollment, *p.authenticator, *p.tokens, *p.store, *p.store, *p.device_limit, p.clock});
  if (Status s = api::RegisterDeviceRoutes(p.router, *p.device_deps); !s) return Fail(s.error());
  // The Uptane repositories: the Image repository's snapshot/timestamp and the Director are
  // signed online with these keys; the Image root and targets keys never reach this server.
  auto kek = LoadKek(config);
  if (!kek) return Fail(kek.error());
  auto online = repo::OnlineKeys::LoadOrCreate(config.secrets_dir(), *kek);
  if (!online) return Fail(std::move(online).error().WithContext("online keys"));
  p.online_keys = std::make_unique<repo::OnlineKeys>(std::move(*online));
  p.repo_store = std::make_unique<repo::sqlite::SqliteRepoStore>(*p.pool);
  p.image_repo = std::make_unique<repo::ImageRepository>(*p.repo_store, *p.online_keys, p.clock);
  p.director_repo =
      std::make_unique<repo::DirectorRepository>(*p.repo_store, *p.online_keys, p.clock);
  p.repo_deps = std::make_unique<api::RepoApiDeps>(
      api::RepoApiDeps{*p.device_deps, *p.image_repo, *p.director_repo});
  if (Status s = api::RegisterRepoRoutes(p.router, *p.repo_deps); !s) return Fail(s.error());
  auto blobs = blobs::FsObjectStore::Create(config.blob_dir());
  if (!blobs) return Fail(std::move(blobs).error().WithContext("artifact store"));
  p.blobs = std::move(*blobs);
  p.artifact_download_deps = std::make_unique<api::ArtifactDownloadDeps>(api::ArtifactDownloadDeps{
      *p.blobs, [&p](std::string_view sha256) -> std::optional<std::filesystem::path> {
        return p.blobs->PathFor(sha256);
      }});
  if (Status s = api::RegisterArtifactDownloadRoutes(p.router, *p.artifact_download_deps); !s) {
    return Fail(s.error());
  }
  if (Status s = RegisterMetrics(p); !s) return Fail(s.error());
  p.health_deps = std::make_unique<api::HealthDeps>(api::HealthDeps{*p.pool});
  if (Status s = api::RegisterHealthRoutes(p.router, *p.health_deps); !s) return Fail(s.error());

  http::ServerConfig http;
  http.address = config.listen_address;
  http.port = config.listen_port;
  http.threads = config.threads;
  if (!config.tls_cert_file.empty()) {
    http::TlsConfig tls;
    tls.certificate_chain_file = config.tls_cert_file;
    tls.private_key_file = config.tls_key_file;
    tls.client_ca_file = config.tls_client_ca_file;
    tls.client_auth = config.client_certs == config::ClientCertMode::kRequired
                          ? http::ClientAuth::kRequired
                      : config.client_certs == config::ClientCertMode::kOptional
                          ? http::ClientAuth::kOptional
                          : http::ClientAuth::kNone;
    http.tls = tls;
  } else {
    http.allow_plain_http = true;  // CheckSafety allowed it: loopback or behind a TLS proxy
  }
  http.upload_dir = config.data_dir / "uploads";
  if (Status s = platform::posix::EnsurePrivateDirectory(http.upload_dir); !s) return Fail(s.error());
  http.per_ip_limit = http::RateLimit{config.per_ip_burst, config.per_ip_requests_per_second,
                                      100'000};
  http.observer = [&p](const http::RequestLog& r) {
    LogRequest(r);
    const std::string route = r.route.empty() ? std::string("unmatched") : r.route;
    p.http_requests->Add({route, std::to_string(r.status)});
    p.http_latency->Observe({route}, static_cast<double>(r.duration.count()) / 1e6);
  };
  auto server = http::HttpServer::Start(http, p.router, p.clock);
  if (!server) return Fail(server.error());
  p.server = std::move(*server);
  return std::unique_ptr<Aloftd>(new Aloftd(std::move(parts)));
}

Aloftd::Aloftd(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Aloftd::~Aloftd() { Stop(); }

std::uint16_t Aloftd::port() const noexcept { return parts_->server->port(); }

std::vector<std::string> Aloftd::Routes() const {
  std::vector<std::string> out;
  for (const auto& r : parts_->router.Routes()) {
    out.push_back(std::string(http::MethodName(r.method)) + " " + r.pattern);
  }
  return out;
}

void Aloftd::Stop() {
  if (parts_ && parts_->server) {
    parts_->server->Stop(std::chrono::duration_cast<std::chrono::milliseconds>(
        parts_->config.shutdown_drain));
  }
}

}  // namespace aloft::server::app
