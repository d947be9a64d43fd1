#include "cli/aloftctl/commands/context.hpp"

#include "cli/aloftctl/client/credentials.hpp"
#include "cli/aloftctl/keys/key_files.hpp"
#include "cli/aloftctl/output/table.hpp"
#include "platform/posix/key_files.hpp"

namespace aloft::cli::aloftctl::commands {

Timestamp Context::Now() const {
  return std::chrono::floor<std::chrono::seconds>(env_.clock->Now());
}

int Context::Failed(const Error& error) {
  err() << "aloftctl: " << output::Printable(error.message()) << "\n";
  if (api_ && api_->refusal()) return kExitRefused;
  switch (error.code()) {
    case Errc::kVerificationFailed:
    case Errc::kExpired:
    case Errc::kRollback:
      return kExitVerification;
    default:
      return kExitError;
  }
}

int Context::Usage(std::string_view message) {
  err() << "aloftctl: " << message << "\nRun with --help for more information.\n";
  return kExitUsage;
}

void Context::PrintJson(const core::codec::Json& value) {
  out() << core::codec::DumpJson(value, true) << "\n";
}

Result<repo::OfflineRepo> Context::OpenRepo() const { return repo::OfflineRepo::Open(global.repo); }

Result<std::string> Context::Passphrase(std::string_view purpose, bool confirm) {
  if (!global.passphrase_file.empty()) {
    // Read like a key file: a passphrase file others can read protects nothing.
    auto text = platform::posix::ReadPrivateKeyFile(global.passphrase_file);
    if (!text) return Fail(std::move(text).error().WithContext("--passphrase-file"));
    std::string line = text->substr(0, text->find('\n'));
    keys::Wipe(*text);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) return Fail(Errc::kInvalidArgument, "--passphrase-file holds no passphrase");
    return line;
  }
  if (auto env = Getenv("ALOFT_PASSPHRASE"); env && !env->empty()) return *env;
  if (!env_.prompt) {
    return Fail(Errc::kInvalidArgument,
                "no passphrase: use --passphrase-file FILE or ALOFT_PASSPHRASE");
  }
  auto first = env_.prompt("Passphrase for " + std::string(purpose) + ": ", true);
  if (!first) {
    return Fail(Errc::kInvalidArgument, "no passphrase: no terminal to ask on (" +
                                            first.error().message() +
                                            "); use --passphrase-file FILE or ALOFT_PASSPHRASE");
  }
  if (confirm) {
    auto second = env_.prompt("Repeat the passphrase: ", true);
    if (!second) return Fail(second.error());
    if (*second != *first) {
      keys::Wipe(*second);
      keys::Wipe(*first);
      return Fail(Errc::kInvalidArgument, "the passphrases differ");
    }
    keys::Wipe(*second);
  }
  return first;
}

Result<std::filesystem::path> Context::CredentialsPath() const {
  if (auto path = Getenv("ALOFT_CREDENTIALS"); path && !path->empty()) return *path;
  return client::DefaultCredentialsPath(env_.getenv);
}

Result<std::string> Context::ServerUrl() {
  if (!global.server.empty()) return global.server;
  if (auto env = Getenv("ALOFT_SERVER"); env && !env->empty()) return *env;
  auto path = CredentialsPath();
  if (path) {
    auto creds = client::Credentials::Load(*path);
    if (!creds) return Fail(creds.error());
    if (!creds->default_server().empty()) return creds->default_server();
  }
  return Fail(Errc::kInvalidArgument,
              "no server: pass --server URL, set ALOFT_SERVER, or run `aloftctl login` first");
}

Result<client::ApiClient*> Context::Api() {
  if (api_) return api_.get();
  auto server = ServerUrl();
  if (!server) return Fail(server.error());
  client::ApiOptions options;
  options.server = *server;
  options.allow_insecure_loopback = global.allow_http_loopback;
  const client::ServerCredentials* stored = nullptr;
  std::optional<client::Credentials> creds;
  if (auto path = CredentialsPath()) {
    auto loaded = client::Credentials::Load(*path);
    if (!loaded) return Fail(loaded.error());
    creds = std::move(*loaded);
    stored = creds->Find(*server);
  }
  if (auto token = Getenv("ALOFT_TOKEN"); token && !token->empty()) {
    options.token = *token;
  } else if (stored != nullptr) {
    options.token = stored->token;
  }
  if (!global.ca.empty()) {
    options.ca_file = global.ca;
  } else if (auto ca = Getenv("ALOFT_CA"); ca && !ca->empty()) {
    options.ca_file = *ca;
  } else if (stored != nullptr && !stored->ca_file.empty()) {
    options.ca_file = stored->ca_file;
  }
  auto api = client::ApiClient::Create(std::move(options));
  if (!api) return Fail(api.error());
  api_ = std::move(*api);
  return api_.get();
}

}  // namespace aloft::cli::aloftctl::commands
