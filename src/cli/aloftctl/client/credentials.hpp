#pragma once

// The API tokens `aloftctl login` stored, one per server, in a JSON file only the user can read
// (~/.config/aloft/credentials.json: directory 0700, file 0600, replaced atomically):
//   {"default": "https://ota.example:8443",
//    "servers": {"https://ota.example:8443": {"token": "alo_...", "username": "alice",
//                                             "token_id": "...", "expires": "...",
//                                             "ca_file": "/path/ca.pem"}}}
// Servers are keyed by origin (scheme://host[:port]), so "https://x/" and "https://x" match.

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::cli::aloftctl::client {

struct ServerCredentials {
  std::string token;
  std::string token_id;
  std::string username;
  std::string expires;
  std::string ca_file;  // empty: the system CA store
};

class Credentials {
 public:
  // Reads `path`; a missing file is an empty set. Refuses a file group or others can read
  // (kInvalidArgument, "chmod 600"): it holds bearer tokens. kCorrupt for malformed content.
  static Result<Credentials> Load(const std::filesystem::path& path);
  // Writes atomically with mode 0600, creating the directory 0700 when missing.
  Status Save(const std::filesystem::path& path) const;

  // Looks up by the server URL's origin.
  const ServerCredentials* Find(std::string_view server_url) const;
  // Stores (replacing) and makes it the default server.
  Status Set(std::string_view server_url, ServerCredentials credentials);
  const std::string& default_server() const noexcept { return default_; }

 private:
  std::string default_;
  std::map<std::string, ServerCredentials, std::less<>> servers_;
};

// $XDG_CONFIG_HOME/aloft/credentials.json, else $HOME/.config/aloft/credentials.json.
// `getenv` looks up an environment variable (injected for tests). kNotFound when neither
// variable is set.
Result<std::filesystem::path> DefaultCredentialsPath(
    const std::function<std::optional<std::string>(std::string_view)>& getenv);

}  // namespace aloft::cli::aloftctl::client
