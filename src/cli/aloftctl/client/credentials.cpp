#include "cli/aloftctl/client/credentials.hpp"

#include <functional>

#include "core/codec/json.hpp"
#include "platform/http/json_client.hpp"
#include "platform/posix/files.hpp"
#include "platform/posix/key_files.hpp"

namespace aloft::cli::aloftctl::client {
namespace {

using core::codec::Json;

std::string StringMember(const Json& object, std::string_view key) {
  const Json* value = object.Find(key);
  return value != nullptr && value->IsString() ? value->AsString() : std::string();
}

}  // namespace

Result<Credentials> Credentials::Load(const std::filesystem::path& path) {
  // The same rules as a private key: tokens are secrets.
  auto text = platform::posix::ReadPrivateKeyFile(path);
  if (!text) {
    if (text.error().code() == Errc::kNotFound) return Credentials{};
    return Fail(std::move(text).error());
  }
  auto doc = core::codec::ParseJson(*text);
  if (!doc || !doc->IsObject()) {
    return Fail(Errc::kCorrupt, path.string() + " is not a credentials file; remove it and log in");
  }
  Credentials creds;
  creds.default_ = StringMember(*doc, "default");
  if (const Json* servers = doc->Find("servers"); servers != nullptr && servers->IsObject()) {
    for (const auto& [origin, entry] : servers->AsObject()) {
      if (!entry.IsObject()) continue;
      creds.servers_[origin] =
          ServerCredentials{StringMember(entry, "token"), StringMember(entry, "token_id"),
                            StringMember(entry, "username"), StringMember(entry, "expires"),
                            StringMember(entry, "ca_file")};
    }
  }
  return creds;
}

Status Credentials::Save(const std::filesystem::path& path) const {
  if (Status s = platform::posix::EnsurePrivateDirectory(path.parent_path()); !s) return s;
  Json::Object servers;
  for (const auto& [origin, c] : servers_) {
    Json entry = Json::Object{{"token", c.token}, {"username", c.username}};
    if (!c.token_id.empty()) entry["token_id"] = c.token_id;
    if (!c.expires.empty()) entry["expires"] = c.expires;
    if (!c.ca_file.empty()) entry["ca_file"] = c.ca_file;
    servers.emplace(origin, std::move(entry));
  }
  const Json doc = Json::Object{{"default", default_}, {"servers", std::move(servers)}};
  return platform::posix::AtomicWriteFile(path, AsBytes(core::codec::DumpJson(doc, true) + "\n"),
                                          0600);
}

const ServerCredentials* Credentials::Find(std::string_view server_url) const {
  auto origin = platform::http::UrlOrigin(std::string(server_url));
  if (!origin) return nullptr;
  auto it = servers_.find(*origin);
  return it == servers_.end() ? nullptr : &it->second;
}

Status Credentials::Set(std::string_view server_url, ServerCredentials credentials) {
  auto origin = platform::http::UrlOrigin(std::string(server_url));
  if (!origin) return Fail(origin.error());
  servers_[*origin] = std::move(credentials);
  default_ = *origin;
  return Ok();
}

Result<std::filesystem::path> DefaultCredentialsPath(
    const std::function<std::optional<std::string>(std::string_view)>& getenv) {
  if (auto xdg = getenv("XDG_CONFIG_HOME"); xdg && !xdg->empty()) {
    return std::filesystem::path(*xdg) / "aloft" / "credentials.json";
  }
  if (auto home = getenv("HOME"); home && !home->empty()) {
    return std::filesystem::path(*home) / ".config" / "aloft" / "credentials.json";
  }
  return Fail(Errc::kNotFound, "neither HOME nor XDG_CONFIG_HOME is set; set ALOFT_TOKEN instead");
}

}  // namespace aloft::cli::aloftctl::client
