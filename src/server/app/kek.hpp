#pragma once

// The key-encryption key (KEK) that protects aloftd's online signing keys at rest.
// Envelope encryption: the keys live encrypted in <data_dir>/secrets; the KEK comes from the
// environment (ALOFTD_KEK, e.g. injected by systemd credentials or a secrets manager) or from
// a 0600 file the operator can keep off the data volume — never from the database.

#include <string>

#include "core/base/result.hpp"
#include "server/config/server_config.hpp"

namespace aloft::server::app {

inline constexpr const char* kKekEnvironmentVariable = "ALOFTD_KEK";

// ALOFTD_KEK when set, else the contents of config.kek_path() (trailing newline dropped).
// kNotFound (with "run aloftd init") when neither exists; file errors (e.g. readable by others)
// as ReadPrivateKeyFile reports them.
Result<std::string> LoadKek(const config::ServerConfig& config);

// For `aloftd init`: the KEK, creating config.kek_path() with 256 random bits (hex) when
// neither the environment nor the file provides one. `created` tells which happened.
Result<std::string> LoadOrCreateKek(const config::ServerConfig& config, bool& created);

}  // namespace aloft::server::app
