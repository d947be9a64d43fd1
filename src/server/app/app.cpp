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
#include "server/app/parts.hpp"
#include "server/store/sqlite/migrations.hpp"

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

Result<std::unique_ptr<Aloftd>> Aloftd::Start(const config::ServerConfig& config) {
  if (Status s = config::CheckSafety(config); !s) return Fail(s.error());
  auto parts = std::make_unique<Parts>();
  Parts& p = *parts;
  p.config = config;
  auto pool = OpenDatabase(config);
  if (!pool) return Fail(pool.error());
  p.pool = std::move(*pool);
  p.store = std::make_unique<store::sqlite::SqliteDeviceStore>(*p.pool);
  p.read_scopes = std::make_unique<store::sqlite::SqliteReadScopes>(*p.pool);
  p.audit = std::make_unique<audit::sqlite::SqliteAuditLog>(*p.pool, p.clock);
  auto blobs = blobs::FsObjectStore::Create(config.blob_dir());
  if (!blobs) return Fail(std::move(blobs).error().WithContext("artifact store"));
  p.blobs = std::move(*blobs);

  auto key = platform::posix::ReadPrivateKeyFile(TokenKeyPath(config));
  if (!key) return Fail(std::move(key).error().WithContext("token key (run aloftd init)"));
  std::string hex = *key;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto raw = HexDecode(hex);
  if (!raw) return Fail(Errc::kCorrupt, "token key file is not hex; rerun aloftd init");
  auto tokens = auth::TokenService::Create(std::move(*raw), p.clock, config.device_token_lifetime);
  if (!tokens) return Fail(tokens.error());
  p.tokens = std::make_unique<auth::TokenService>(std::move(*tokens));

  // The Uptane repositories: the Image repository's snapshot/timestamp and the Director are
  // signed online with these keys; the Image root and targets keys never reach this server.
  auto kek = LoadKek(config);
  if (!kek) return Fail(kek.error());
  // The same KEK seals operators' TOTP seeds (operators/totp_seed_cipher.hpp).
  auto totp_cipher = operators::TotpSeedCipher::Create(*kek);
  if (!totp_cipher) return Fail(std::move(totp_cipher).error().WithContext("TOTP seed key"));
  p.totp_cipher = std::make_unique<operators::TotpSeedCipher>(std::move(*totp_cipher));
  p.key_rotation = std::make_unique<repo::OnlineKeyRotation>(config.secrets_dir(), *kek);
  // Before the keys are read: a switch to rotated keys that a crash cut short is finished.
  if (auto finished = p.key_rotation->FinishInterruptedPromotion(); !finished) {
    return Fail(std::move(finished).error().WithContext("online-key rotation"));
  }
  auto online = repo::OnlineKeys::LoadOrCreate(config.secrets_dir(), *kek);
  if (!online) return Fail(std::move(online).error().WithContext("online keys"));
  p.online_keys = std::make_unique<repo::OnlineKeys>(std::move(*online));
  p.repo_store = std::make_unique<repo::sqlite::SqliteRepoStore>(*p.pool);
  p.image_repo = std::make_unique<repo::ImageRepository>(*p.repo_store, *p.online_keys, p.clock,
                                                         repo::Lifetimes{}, p.key_rotation.get());
  if (Status s = p.image_repo->ResumeKeyRotation(); !s) {
    return Fail(std::move(s).error().WithContext("online-key rotation"));
  }
  p.director_repo =
      std::make_unique<repo::DirectorRepository>(*p.repo_store, *p.online_keys, p.clock);
  p.releases = std::make_unique<releases::ReleaseCatalog>(*p.image_repo, *p.blobs);
  p.release_adapter = std::make_unique<ReleaseCatalogAdapter>(*p.releases);
  p.assigner = std::make_unique<deployments::DirectorRepositoryAssigner>(*p.director_repo);
  p.group_store = std::make_unique<groups::sqlite::SqliteGroupStore>(*p.pool);
  p.group_membership = std::make_unique<GroupMembershipAdapter>(*p.group_store);
  p.deployment_store = std::make_unique<deployments::sqlite::SqliteDeploymentStore>(*p.pool);
  p.delta_store = std::make_unique<deltas::sqlite::SqliteDeltaStore>(*p.pool);
  p.delta_releases = std::make_unique<DeltaReleaseSource>(*p.releases);
  deltas::DeltaServiceOptions delta_options;
  delta_options.enabled = config.deltas_enabled;
  delta_options.max_image_bytes = static_cast<std::uint64_t>(config.delta_max_image_bytes);
  delta_options.level = config.delta_level;
  delta_options.work_dir = config.delta_work_dir();
  p.deltas = std::make_unique<deltas::DeltaService>(*p.delta_store, *p.blobs, *p.delta_releases,
                                                    *p.audit, p.clock, std::move(delta_options));
  p.built_deltas = std::make_unique<BuiltDeltasAdapter>(*p.deltas, *p.store, *p.releases);
  p.deployments = std::make_unique<deployments::DeploymentService>(
      *p.deployment_store, *p.release_adapter, *p.assigner, p.clock, p.group_membership.get(),
      p.built_deltas.get());

  if (Status s = WireDevices(p); !s) return Fail(s.error());
  if (Status s = WireManagement(p); !s) return Fail(s.error());
  if (Status s = WireMetrics(p); !s) return Fail(s.error());
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
    tls.session_tickets = config.tls_session_tickets;
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
    if (p.config.access_log) LogRequest(r);
    // One label vector per request: {route, status} for the counter, then {route}.
    metrics::LabelValues labels{r.route.empty() ? std::string("unmatched") : r.route,
                                std::to_string(r.status)};
    p.http_requests->Add(labels);
    labels.pop_back();
    p.http_latency->Observe(labels, static_cast<double>(r.duration.count()) / 1e6);
  };
  auto server = http::HttpServer::Start(http, p.router, p.clock);
  if (!server) return Fail(server.error());
  p.server = std::move(*server);
  // Rollouts advance, pause on failures and fail silent devices even when nobody reads them.
  p.housekeeping = std::make_unique<Periodic>(std::chrono::seconds(5), [&p] {
    if (Status s = p.deployments->Tick(); !s) {
      std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                       {"level", "error"}, {"event", "rollout_tick_failed"},
                       {"error", s.error().ToString()}}) +
                       "\n";
    }
    if (auto sampled = p.fleet_history->SampleIfDue(); !sampled) {
      std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                       {"level", "warning"}, {"event", "fleet_sample_failed"},
                       {"error", sampled.error().ToString()}}) +
                       "\n";
    }
  });
  // Check-ins record last-seen times in memory; they reach the database once a second (later
  // while the request threads keep the CPU busy: the flush runs below them).
  p.last_seen_flush = std::make_unique<Periodic>(
      std::chrono::seconds(1),
      [&p] {
        if (Status s = p.last_seen->Flush(); !s) {
          std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                           {"level", "warning"}, {"event", "last_seen_flush_failed"},
                           {"error", s.error().ToString()}}) +
                           "\n";
        }
      },
      Periodic::Priority::kBackground);
  // Deltas requested at check-in are built one at a time, off the request threads and below
  // them: a build takes seconds of CPU.
  p.delta_builder = std::make_unique<Periodic>(std::chrono::seconds(2), [&p] {
    while (true) {
      auto built = p.deltas->BuildNext();
      if (!built) {
        std::cerr << core::codec::DumpJson(core::codec::Json::Object{
                         {"level", "warning"}, {"event", "delta_build_failed"},
                         {"error", built.error().ToString()}}) +
                         "\n";
      }
      if (!built || !*built) return;
    }
  }, Periodic::Priority::kBackground);
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
  if (parts_ && parts_->housekeeping) parts_->housekeeping->Stop();
  if (parts_ && parts_->delta_builder) {
    parts_->deltas->Cancel();  // a build in progress stops at its next block
    parts_->delta_builder->Stop();
  }
  if (parts_ && parts_->server) {
    parts_->server->Stop(std::chrono::duration_cast<std::chrono::milliseconds>(
        parts_->config.shutdown_drain));
  }
  // After the drain: the last check-ins' times are written before the process exits.
  if (parts_ && parts_->last_seen_flush) {
    parts_->last_seen_flush->Stop();
    (void)parts_->last_seen->Flush();
  }
}

}  // namespace aloft::server::app
