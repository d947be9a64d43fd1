#include "server/config/server_config.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <functional>
#include <set>
#include <sstream>
#include <vector>

#include <toml++/toml.h>

#include "platform/posix/files.hpp"

extern char** environ;

namespace aloft::server::config {
namespace {

// One configurable key: where it lives, its help text, and how to apply a value to the config.
// Values arrive as strings (from the environment) or as TOML nodes; both go through the same
// setter so the rules are written once.
struct Key {
  std::string_view section;
  std::string_view name;
  std::string_view help;
  std::function<Status(ServerConfig&, std::string_view)> set;
};

Status ParseBool(std::string_view v, bool& out) {
  if (v == "true") { out = true; return Ok(); }
  if (v == "false") { out = false; return Ok(); }
  return Fail(Errc::kInvalidArgument, "must be true or false");
}

Status ParseInt(std::string_view v, std::int64_t min, std::int64_t max, std::int64_t& out) {
  std::int64_t value = 0;
  if (v.empty()) return Fail(Errc::kInvalidArgument, "must be a whole number");
  std::size_t i = 0;
  bool negative = v[0] == '-';
  if (negative) i = 1;
  if (i == v.size()) return Fail(Errc::kInvalidArgument, "must be a whole number");
  for (; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9' || value > (max / 10) + 1) {
      return Fail(Errc::kInvalidArgument, "must be a whole number");
    }
    value = value * 10 + (v[i] - '0');
  }
  if (negative) value = -value;
  if (value < min || value > max) {
    return Fail(Errc::kInvalidArgument, "must be between " + std::to_string(min) + " and " +
                                            std::to_string(max));
  }
  out = value;
  return Ok();
}

Status ParseDouble(std::string_view v, double min, double max, double& out) {
  std::string s(v);
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !(d >= min && d <= max)) {
    return Fail(Errc::kInvalidArgument, "must be a number between " + std::to_string(min) +
                                            " and " + std::to_string(max));
  }
  out = d;
  return Ok();
}

const std::vector<Key>& Keys() {
  static const std::vector<Key> keys = {
      {"server", "listen", "address:port to listen on (default 127.0.0.1:8443)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::size_t colon = v.rfind(':');
         if (colon == std::string_view::npos || colon == 0) {
           return Fail(Errc::kInvalidArgument, "must be address:port");
         }
         std::int64_t port = 0;
         if (Status s = ParseInt(v.substr(colon + 1), 0, 65535, port); !s) return s;
         std::string_view host = v.substr(0, colon);
         if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
           host = host.substr(1, host.size() - 2);
         }
         c.listen_address = std::string(host);
         c.listen_port = static_cast<std::uint16_t>(port);
         return Ok();
       }},
      {"server", "public_url", "URL devices use to reach this server (the device-auth audience)",
       [](ServerConfig& c, std::string_view v) -> Status {
         if (!v.starts_with("https://") && !v.starts_with("http://")) {
           return Fail(Errc::kInvalidArgument, "must start with https:// or http://");
         }
         c.public_url = std::string(v);
         return Ok();
       }},
      {"server", "behind_tls_proxy", "true when a TLS-terminating proxy sits in front",
       [](ServerConfig& c, std::string_view v) { return ParseBool(v, c.behind_tls_proxy); }},
      {"server", "access_log", "one JSON line per request on stderr (default true)",
       [](ServerConfig& c, std::string_view v) { return ParseBool(v, c.access_log); }},
      {"server", "threads", "I/O threads, each with its own event loop (1-64, default 2)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::int64_t n = 0;
         if (Status s = ParseInt(v, 1, 64, n); !s) return s;
         c.threads = static_cast<unsigned>(n);
         return Ok();
       }},
      {"server", "shutdown_drain_seconds", "seconds to finish requests on SIGTERM (default 10)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::int64_t n = 0;
         if (Status s = ParseInt(v, 0, 600, n); !s) return s;
         c.shutdown_drain = std::chrono::seconds(n);
         return Ok();
       }},
      {"tls", "cert_file", "PEM certificate chain served to clients",
       [](ServerConfig& c, std::string_view v) {
         c.tls_cert_file = std::string(v);
         return Ok();
       }},
      {"tls", "key_file", "PEM private key of the certificate (mode 0600)",
       [](ServerConfig& c, std::string_view v) {
         c.tls_key_file = std::string(v);
         return Ok();
       }},
      {"tls", "client_ca_file", "CA that signs device certificates, for mutual TLS",
       [](ServerConfig& c, std::string_view v) {
         c.tls_client_ca_file = std::string(v);
         return Ok();
       }},
      {"tls", "client_certificates", "none | optional | required (mutual TLS)",
       [](ServerConfig& c, std::string_view v) -> Status {
         if (v == "none") c.client_certs = ClientCertMode::kNone;
         else if (v == "optional") c.client_certs = ClientCertMode::kOptional;
         else if (v == "required") c.client_certs = ClientCertMode::kRequired;
         else return Fail(Errc::kInvalidArgument, "must be none, optional or required");
         return Ok();
       }},
      {"tls", "session_tickets",
       "TLS 1.3 session tickets per full handshake, 0-8 (default 1; 0: no resumption by ticket)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::int64_t n = 0;
         if (Status s = ParseInt(v, 0, 8, n); !s) return s;
         c.tls_session_tickets = static_cast<unsigned>(n);
         return Ok();
       }},
      {"storage", "data_dir", "database, blobs and secrets (default /var/lib/aloftd; mode 0700)",
       [](ServerConfig& c, std::string_view v) -> Status {
         if (v.empty()) return Fail(Errc::kInvalidArgument, "must not be empty");
         c.data_dir = std::string(v);
         return Ok();
       }},
      {"limits", "per_ip_requests_per_second", "sustained requests per client address",
       [](ServerConfig& c, std::string_view v) {
         return ParseDouble(v, 0.01, 1e6, c.per_ip_requests_per_second);
       }},
      {"limits", "per_ip_burst", "burst per client address",
       [](ServerConfig& c, std::string_view v) { return ParseDouble(v, 1, 1e7, c.per_ip_burst); }},
      {"limits", "per_device_requests_per_second", "sustained requests per device",
       [](ServerConfig& c, std::string_view v) {
         return ParseDouble(v, 0.001, 1e5, c.per_device_requests_per_second);
       }},
      {"limits", "per_device_burst", "burst per device",
       [](ServerConfig& c, std::string_view v) {
         return ParseDouble(v, 1, 1e6, c.per_device_burst);
       }},
      {"limits", "device_token_lifetime_seconds", "lifetime of device tokens (60-86400)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::int64_t n = 0;
         if (Status s = ParseInt(v, 60, 86400, n); !s) return s;
         c.device_token_lifetime = std::chrono::seconds(n);
         return Ok();
       }},
      {"limits", "max_artifact_bytes", "largest artifact upload",
       [](ServerConfig& c, std::string_view v) {
         return ParseInt(v, 1, std::int64_t{1} << 40, c.max_artifact_bytes);
       }},
      {"console", "dir",
       "directory of the built web console (web/dist, or /usr/share/aloft/console); unset: no console",
       [](ServerConfig& c, std::string_view v) {
         c.console_dir = std::string(v);
         return Ok();
       }},
      {"secrets", "kek_file",
       "key-encryption key of the online signing keys (0600; default <data_dir>/kek; keep it "
       "off the data volume; ALOFTD_KEK overrides with the key itself)",
       [](ServerConfig& c, std::string_view v) -> Status {
         if (v.empty()) return Fail(Errc::kInvalidArgument, "must not be empty");
         c.kek_file = std::string(v);
         return Ok();
       }},
      {"fleet", "sample_interval_seconds",
       "how often the fleet's image versions are sampled for the history chart (1-86400, "
       "default 3600)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::int64_t n = 0;
         if (Status s = ParseInt(v, 1, 86400, n); !s) return s;
         c.fleet_sample_interval = std::chrono::seconds(n);
         return Ok();
       }},
      {"deltas", "enabled",
       "build deltas in the background for releases uploaded without one, from the images "
       "devices report (default true)",
       [](ServerConfig& c, std::string_view v) { return ParseBool(v, c.deltas_enabled); }},
      {"deltas", "max_image_bytes",
       "largest image (either side) a delta is built for; building holds both mapped and about "
       "2.5x the larger in memory (default 1073741824, at most 2147483647)",
       [](ServerConfig& c, std::string_view v) {
         return ParseInt(v, 1, (std::int64_t{1} << 31) - 1, c.delta_max_image_bytes);
       }},
      {"deltas", "level", "zstd level of the patches' streams (1-22, default 19)",
       [](ServerConfig& c, std::string_view v) -> Status {
         std::int64_t n = 0;
         if (Status s = ParseInt(v, 1, 22, n); !s) return s;
         c.delta_level = static_cast<int>(n);
         return Ok();
       }},
      {"metrics", "token_file",
       "file holding the Prometheus scrape token; unset: /metrics answers loopback clients only",
       [](ServerConfig& c, std::string_view v) {
         c.metrics_token_file = std::string(v);
         return Ok();
       }},
  };
  return keys;
}

const Key* FindKey(std::string_view section, std::string_view name) {
  for (const Key& k : Keys()) {
    if (k.section == section && k.name == name) return &k;
  }
  return nullptr;
}

std::string EnvName(const Key& k) {
  std::string out = "ALOFTD_";
  for (char c : std::string(k.section) + "_" + std::string(k.name)) {
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

// A TOML scalar as the string the setters take.
std::optional<std::string> ScalarText(const toml::node& node) {
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<std::int64_t>());
  if (node.is_floating_point()) {
    std::ostringstream out;
    out << *node.value<double>();
    return out.str();
  }
  return std::nullopt;
}

bool IsLoopback(std::string_view address) {
  return address.starts_with("127.") || address == "::1" || address == "localhost";
}

}  // namespace

Result<ServerConfig> ParseServerConfig(std::string_view toml_text, std::string_view source,
                                       const std::map<std::string, std::string>& environment) {
  ServerConfig config;
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Fail(Errc::kInvalidArgument, std::string(source) + ":" + std::to_string(where.line) +
                                            ":" + std::to_string(where.column) + ": " +
                                            std::string(e.description()));
  }
  for (const auto& [section_key, section_node] : table) {
    std::string section(section_key.str());
    const toml::table* section_table = section_node.as_table();
    if (section_table == nullptr) {
      return Fail(Errc::kInvalidArgument,
                  std::string(source) + ": '" + section + "' must be a [section]");
    }
    for (const auto& [name_key, value] : *section_table) {
      std::string name(name_key.str());
      const Key* key = FindKey(section, name);
      if (key == nullptr) {
        return Fail(Errc::kInvalidArgument, std::string(source) + ": unknown key " + section +
                                                "." + name + " (see aloftd --help)");
      }
      auto text = ScalarText(value);
      if (!text) {
        return Fail(Errc::kInvalidArgument,
                    std::string(source) + ": " + section + "." + name + " must be a single value");
      }
      if (Status s = key->set(config, *text); !s) {
        return Fail(Errc::kInvalidArgument, std::string(source) + ": " + section + "." + name +
                                                " " + s.error().message());
      }
    }
  }
  for (const Key& key : Keys()) {
    auto it = environment.find(EnvName(key));
    if (it == environment.end()) continue;
    if (Status s = key.set(config, it->second); !s) {
      return Fail(Errc::kInvalidArgument, "environment " + EnvName(key) + " " + s.error().message());
    }
  }
  if (config.public_url.empty()) {
    config.public_url = std::string(config.behind_tls_proxy || !config.tls_cert_file.empty()
                                        ? "https://"
                                        : "http://") +
                        config.listen_address + ":" + std::to_string(config.listen_port);
  }
  return config;
}

Result<ServerConfig> LoadServerConfig(const std::filesystem::path& path) {
  auto text = platform::posix::ReadFile(path, 1 << 20);
  if (!text) return Fail(std::move(text).error().WithContext("configuration"));
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (!entry.starts_with("ALOFTD_")) continue;
    std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return ParseServerConfig(AsChars(*text), path.string(), env);
}

Status CheckSafety(const ServerConfig& c) {
  std::vector<std::string> problems;
  bool plain = c.tls_cert_file.empty();
  if (plain && !c.behind_tls_proxy && !IsLoopback(c.listen_address)) {
    problems.push_back("plain HTTP on " + c.listen_address +
                       ": configure [tls] or set server.behind_tls_proxy = true");
  }
  if (!plain && c.tls_key_file.empty()) problems.push_back("tls.cert_file needs tls.key_file");
  if (c.client_certs != ClientCertMode::kNone && c.tls_client_ca_file.empty()) {
    problems.push_back("tls.client_certificates needs tls.client_ca_file");
  }
  if (!c.tls_key_file.empty()) {
    struct stat st {};
    if (::stat(c.tls_key_file.c_str(), &st) != 0) {
      problems.push_back("tls.key_file " + c.tls_key_file.string() + " does not exist");
    } else if ((st.st_mode & 077) != 0) {
      problems.push_back("tls.key_file " + c.tls_key_file.string() +
                         " is readable by others; chmod 600 it");
    }
  }
  if (!c.metrics_token_file.empty()) {
    struct stat st {};
    if (::stat(c.metrics_token_file.c_str(), &st) != 0) {
      problems.push_back("metrics.token_file " + c.metrics_token_file.string() +
                         " does not exist");
    } else if ((st.st_mode & 077) != 0) {
      problems.push_back("metrics.token_file " + c.metrics_token_file.string() +
                         " is readable by others; chmod 600 it");
    }
  }
  struct stat st {};
  if (::stat(c.data_dir.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    problems.push_back("storage.data_dir " + c.data_dir.string() +
                       " is accessible by others; chmod 700 it");
  }
  if (problems.empty()) return Ok();
  std::string message = "refusing to start with an unsafe configuration:";
  for (const auto& p : problems) message += "\n  - " + p;
  return Fail(Errc::kInvalidArgument, message);
}

std::string ConfigReference() {
  std::string out;
  std::string_view section;
  for (const Key& k : Keys()) {
    if (k.section != section) {
      section = k.section;
      out += "[" + std::string(section) + "]\n";
    }
    out += "  " + std::string(k.name) + " — " + std::string(k.help) + " (env " + EnvName(k) +
           ")\n";
  }
  return out;
}

}  // namespace aloft::server::config
