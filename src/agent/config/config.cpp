#include "agent/config/config.hpp"

#include <toml++/toml.h>

#include <cctype>
#include <charconv>
#include <limits>
#include <set>
#include <utility>

#include "core/wire/device_api.hpp"
#include "platform/http/json_client.hpp"
#include "platform/posix/files.hpp"

extern char** environ;  // NOLINT: POSIX

namespace aloft::agent::config {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kMaxConfigBytes = 256 * 1024;
constexpr std::string_view kEnvPrefix = "ALOFT_AGENT_";

std::string EnvName(std::string_view key) {
  std::string name(kEnvPrefix);
  for (char c : key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

// Reads one TOML table, remembering which keys were consumed so that the rest can be
// reported as unknown, and keeping the first error. `env` is set only for the top level.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, std::string_view source,
              std::optional<Error>& error, const Environment* env = nullptr)
      : table_(table), prefix_(std::move(prefix)), source_(source), error_(error), env_(env) {}

  void SetError(std::string_view key, const std::string& what) {
    if (!error_) {
      error_ = Error(Errc::kInvalidArgument,
                     std::string(source_) + ": " + prefix_ + std::string(key) + ": " + what);
    }
  }
  bool failed() const { return error_.has_value(); }

  const toml::node* Node(std::string_view key) {
    seen_.insert(std::string(key));
    return table_.get(key);
  }

  // The override for a top-level scalar, if its variable is set.
  const std::string* EnvValue(std::string_view key) {
    if (env_ == nullptr) return nullptr;
    auto it = env_->find(EnvName(key));
    return it == env_->end() ? nullptr : &it->second;
  }

  std::optional<std::string> String(std::string_view key) {
    if (const std::string* v = EnvValue(key)) {
      seen_.insert(std::string(key));
      return *v;
    }
    const toml::node* node = Node(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_string()) {
      SetError(key, std::string("must be a string, not ") + TypeName(*node));
      return std::nullopt;
    }
    return node->value<std::string>();
  }

  std::optional<std::int64_t> Int(std::string_view key, std::int64_t min, std::int64_t max) {
    std::optional<std::int64_t> value;
    if (const std::string* v = EnvValue(key)) {
      seen_.insert(std::string(key));
      std::int64_t parsed = 0;
      const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
      if (ec != std::errc() || end != v->data() + v->size()) {
        SetError(key, "must be an integer (from " + EnvName(key) + "='" + *v + "')");
        return std::nullopt;
      }
      value = parsed;
    } else {
      const toml::node* node = Node(key);
      if (node == nullptr) return std::nullopt;
      if (!node->is_integer()) {
        SetError(key, std::string("must be an integer, not ") + TypeName(*node));
        return std::nullopt;
      }
      value = node->value<std::int64_t>();
    }
    if (*value < min || *value > max) {
      SetError(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                        ", not " + std::to_string(*value));
      return std::nullopt;
    }
    return value;
  }

  std::optional<bool> Bool(std::string_view key) {
    if (const std::string* v = EnvValue(key)) {
      seen_.insert(std::string(key));
      if (*v == "true") return true;
      if (*v == "false") return false;
      SetError(key, "must be true or false (from " + EnvName(key) + "='" + *v + "')");
      return std::nullopt;
    }
    const toml::node* node = Node(key);
    if (node == nullptr) return std::nullopt;
    if (!node->is_boolean()) {
      SetError(key, std::string("must be true or false, not ") + TypeName(*node));
      return std::nullopt;
    }
    return node->value<bool>();
  }

  std::optional<fs::path> Path(std::string_view key) {
    auto text = String(key);
    if (!text) return std::nullopt;
    fs::path path(*text);
    if (!path.is_absolute()) {
      SetError(key, "must be an absolute path, not '" + *text + "'");
      return std::nullopt;
    }
    return path.lexically_normal();
  }

  const toml::table* Table(std::string_view key) {
    const toml::node* node = Node(key);
    if (node == nullptr) return nullptr;
    if (!node->is_table()) {
      SetError(key, std::string("must be a table, not ") + TypeName(*node));
      return nullptr;
    }
    return node->as_table();
  }

  void Require(std::string_view key, bool present) {
    if (!present && !failed()) SetError(key, "is required");
  }

  // Reports the first key that no getter asked for.
  void RejectUnknownKeys() {
    for (const auto& [key, node] : table_) {
      if (!seen_.contains(std::string(key.str()))) {
        SetError(key.str(), "unknown key (misspelt?)");
        return;
      }
    }
  }

  const std::string& prefix() const { return prefix_; }

 private:
  static const char* TypeName(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      default:
        return "a date/time";
    }
  }

  const toml::table& table_;
  std::string prefix_;
  std::string_view source_;
  std::optional<Error>& error_;
  const Environment* env_;
  std::set<std::string> seen_;
};

void ReadSlot(TableReader& parent, const toml::table* table, std::string_view name,
              std::optional<Error>& error, std::string_view source, slots::Slot& slot) {
  if (table == nullptr) {
    parent.Require(name, false);
    return;
  }
  TableReader reader(*table, parent.prefix() + std::string(name) + ".", source, error);
  auto device = reader.Path("device");
  reader.Require("device", device.has_value());
  auto kind = reader.String("kind");
  reader.Require("kind", kind.has_value());
  if (kind) {
    if (*kind == "file") {
      slot.kind = slots::SlotKind::kFile;
    } else if (*kind == "block") {
      slot.kind = slots::SlotKind::kBlockDevice;
    } else {
      reader.SetError("kind", "must be \"file\" or \"block\", not \"" + *kind + "\"");
    }
  }
  if (device) slot.device = *device;
  reader.RejectUnknownKeys();
}

void ReadSlots(TableReader& top, std::optional<Error>& error, std::string_view source,
               AgentConfig& config) {
  const toml::table* table = top.Table("slots");
  top.Require("slots", table != nullptr);
  if (table == nullptr) return;
  TableReader reader(*table, "slots.", source, error);
  config.slots.a.id = slots::SlotId::kA;
  config.slots.b.id = slots::SlotId::kB;
  ReadSlot(reader, reader.Table("a"), "a", error, source, config.slots.a);
  ReadSlot(reader, reader.Table("b"), "b", error, source, config.slots.b);
  reader.RejectUnknownKeys();
  if (!error && config.slots.a.device == config.slots.b.device) {
    reader.SetError("b.device", "must differ from slots.a.device");
  }
}

void ReadBootloader(TableReader& top, std::optional<Error>& error, std::string_view source,
                    AgentConfig& config) {
  const toml::table* table = top.Table("bootloader");
  top.Require("bootloader", table != nullptr);
  if (table == nullptr) return;
  TableReader reader(*table, "bootloader.", source, error);
  auto kind = reader.String("kind");
  reader.Require("kind", kind.has_value());
  auto env = reader.Path("env");
  if (kind) {
    if (*kind == "uboot") {
      config.bootloader.kind = BootloaderKind::kUboot;
      config.bootloader.env = env.value_or("/etc/fw_env.config");
    } else if (*kind == "grub") {
      config.bootloader.kind = BootloaderKind::kGrub;
      config.bootloader.env = env.value_or("/boot/grub/grubenv");
    } else if (*kind == "simulated") {
      config.bootloader.kind = BootloaderKind::kSimulated;
      reader.Require("env", env.has_value());
      if (env) config.bootloader.env = *env;
    } else {
      reader.SetError("kind",
                      "must be \"uboot\", \"grub\" or \"simulated\", not \"" + *kind + "\"");
    }
  }
  reader.RejectUnknownKeys();
}

void ReadLimits(TableReader& top, std::optional<Error>& error, std::string_view source,
                AgentConfig& config) {
  const toml::table* table = top.Table("limits");
  if (table == nullptr) return;
  TableReader reader(*table, "limits.", source, error);
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (auto v = reader.Int("max_image_bytes", 1, kMax)) {
    config.limits.max_image_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto v = reader.Int("max_metadata_bytes", 1024, std::int64_t{1} << 30)) {
    config.limits.max_metadata_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto v = reader.Int("download_timeout_seconds", 1, 7 * 24 * 3600)) {
    config.limits.download_timeout = std::chrono::seconds(*v);
  }
  reader.RejectUnknownKeys();
}

void ReadDelta(TableReader& top, std::optional<Error>& error, std::string_view source,
               AgentConfig& config) {
  const toml::table* table = top.Table("delta");
  if (table == nullptr) return;
  TableReader reader(*table, "delta.", source, error);
  if (auto v = reader.Bool("accept_server_built")) config.delta.accept_server_built = *v;
  reader.RejectUnknownKeys();
}

void ReadHealthChecks(TableReader& top, std::optional<Error>& error, std::string_view source,
                      AgentConfig& config) {
  const toml::node* node = top.Node("health_checks");
  if (node == nullptr) return;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    top.SetError("health_checks", "must be an array of tables ([[health_checks]])");
    return;
  }
  std::size_t i = 0;
  for (const toml::node& element : *array) {
    if (error) return;
    const std::string name = "health_checks[" + std::to_string(i++) + "]";
    const toml::table* table = element.as_table();
    if (table == nullptr) {
      top.SetError(name, "must be a table with command and timeout_seconds");
      return;
    }
    TableReader reader(*table, name + ".", source, error);
    HealthCheck check;
    const toml::node* command = reader.Node("command");
    const toml::array* argv = command != nullptr ? command->as_array() : nullptr;
    if (argv == nullptr || argv->empty()) {
      reader.SetError("command", "must be a non-empty array of strings");
      return;
    }
    for (const toml::node& arg : *argv) {
      if (!arg.is_string()) {
        reader.SetError("command", "must be a non-empty array of strings");
        return;
      }
      check.command.push_back(*arg.value<std::string>());
    }
    if (!fs::path(check.command.front()).is_absolute()) {
      reader.SetError("command",
                      "program must be an absolute path, not '" + check.command.front() + "'");
    }
    if (auto v = reader.Int("timeout_seconds", 1, 3600)) check.timeout = std::chrono::seconds(*v);
    reader.RejectUnknownKeys();
    config.health_checks.push_back(std::move(check));
  }
}

// An array of strings at `key`; nullopt when absent (or on error, which `reader` records).
std::optional<std::vector<std::string>> StringArray(TableReader& reader, std::string_view key,
                                                    bool allow_empty) {
  const toml::node* node = reader.Node(key);
  if (node == nullptr) return std::nullopt;
  const toml::array* array = node->as_array();
  if (array == nullptr || (!allow_empty && array->empty())) {
    reader.SetError(key, allow_empty ? "must be an array of strings"
                                     : "must be a non-empty array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const toml::node& element : *array) {
    if (!element.is_string()) {
      reader.SetError(key, "must be an array of strings");
      return std::nullopt;
    }
    out.push_back(*element.value<std::string>());
  }
  return out;
}

void ReadUpdateKeys(TableReader& top, std::optional<Error>& error, std::string_view source,
                    AgentConfig& config) {
  config.director_root = top.Path("director_root");
  config.image_root = top.Path("image_root");
  if (auto argv = StringArray(top, "reboot_command", /*allow_empty=*/false)) {
    if (!fs::path(argv->front()).is_absolute()) {
      top.SetError("reboot_command", "program must be an absolute path, not '" + argv->front() +
                                         "'");
    }
    config.reboot_command = std::move(*argv);
  }
  if (auto v = top.Int("max_update_attempts", 1, 100)) {
    config.max_update_attempts = static_cast<int>(*v);
  }

  if (const toml::table* table = top.Table("attributes")) {
    TableReader reader(*table, "attributes.", source, error);
    for (const auto& [key, node] : *table) {
      const std::string name(key.str());
      auto value = reader.String(name);
      if (!value) {
        reader.Require(name, false);
        break;
      }
      if (!core::wire::IsValidId(name)) {
        reader.SetError(name, "is not a valid attribute name (1-128 of A-Z a-z 0-9 . _ : -)");
      } else if (value->size() > core::wire::kMaxTextBytes) {
        reader.SetError(name, "is longer than 4096 bytes");
      }
      config.attributes[name] = *value;
    }
  }
  if (auto tags = StringArray(top, "tags", /*allow_empty=*/true)) {
    std::set<std::string> unique;
    for (const std::string& tag : *tags) {
      if (!core::wire::IsValidId(tag)) {
        top.SetError("tags", "'" + tag + "' is not a valid tag (1-128 of A-Z a-z 0-9 . _ : -)");
      }
      unique.insert(tag);
    }
    if (config.attributes.contains("tags")) {
      top.SetError("tags", "set either tags or attributes.tags");
    }
    std::string joined;
    for (const std::string& tag : unique) joined += (joined.empty() ? "" : ",") + tag;
    if (!unique.empty()) config.attributes["tags"] = joined;
  }
  if (config.attributes.size() > core::wire::kMaxAttributes) {
    top.SetError("attributes", "more than 64 attributes");
  }

  const toml::table* table = top.Table("download");
  if (table == nullptr) return;
  TableReader reader(*table, "download.", source, error);
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  DownloadConfig& d = config.download;
  if (auto v = reader.Int("max_bytes_per_second", 0, kMax)) {
    d.max_bytes_per_second = static_cast<std::uint64_t>(*v);
  }
  if (auto v = reader.Int("retries", 0, 100)) d.retries = static_cast<int>(*v);
  if (auto v = reader.Int("retry_initial_seconds", 1, 3600)) {
    d.retry_initial = std::chrono::seconds(*v);
  }
  if (auto v = reader.Int("retry_max_seconds", 1, 24 * 3600)) {
    d.retry_max = std::chrono::seconds(*v);
  }
  if (auto v = reader.Bool("keep_partial")) d.keep_partial = *v;
  if (auto v = reader.Int("progress_interval_seconds", 0, 3600)) {
    d.progress_interval = std::chrono::seconds(*v);
  }
  if (d.retry_max < d.retry_initial) {
    reader.SetError("retry_max_seconds", "must not be below retry_initial_seconds");
  }
  reader.RejectUnknownKeys();
}

}  // namespace

Result<AgentConfig> ParseConfig(std::string_view toml_text, std::string_view source,
                                const Environment& env) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return Fail(Errc::kInvalidArgument, std::string(source) + ":" + std::to_string(where.line) +
                                            ":" + std::to_string(where.column) + ": " +
                                            std::string(e.description()));
  }

  AgentConfig config;
  std::optional<Error> error;
  TableReader top(root, "", source, error, &env);

  auto server_url = top.String("server_url");
  top.Require("server_url", server_url.has_value());
  if (auto v = top.Bool("allow_insecure_loopback")) config.allow_insecure_loopback = *v;
  if (server_url) {
    config.server_url = *server_url;
    while (config.server_url.ends_with('/')) config.server_url.pop_back();
    Status allowed =
        platform::http::CheckUrlAllowed(config.server_url, config.allow_insecure_loopback);
    if (!allowed) top.SetError("server_url", allowed.error().message());
  }
  config.ca_file = top.Path("ca_file");
  for (auto [key, field] :
       {std::pair{"device_id", &config.device_id}, std::pair{"hardware_id", &config.hardware_id}}) {
    auto v = top.String(key);
    top.Require(key, v.has_value());
    if (v && !core::wire::IsValidId(*v)) {
      top.SetError(key, "'" + *v + "' is not a valid id (1-128 of A-Z a-z 0-9 . _ : -)");
    }
    if (v) *field = *v;
  }
  if (auto v = top.Path("data_dir")) config.data_dir = *v;
  config.key_file = top.Path("key_file").value_or(config.data_dir / "device.key");
  if (auto v = top.String("enrollment_token")) config.enrollment_token = *v;
  config.enrollment_token_file = top.Path("enrollment_token_file");
  if (!config.enrollment_token.empty() && config.enrollment_token_file) {
    top.SetError("enrollment_token_file", "set either enrollment_token or enrollment_token_file");
  }
  if (auto v = top.Int("poll_interval_seconds", 10, 7 * 24 * 3600)) {
    config.poll_interval = std::chrono::seconds(*v);
  }
  if (auto v = top.Int("poll_jitter_percent", 0, 90)) {
    config.poll_jitter_percent = static_cast<int>(*v);
  }
  ReadSlots(top, error, source, config);
  ReadBootloader(top, error, source, config);
  ReadLimits(top, error, source, config);
  ReadDelta(top, error, source, config);
  ReadHealthChecks(top, error, source, config);
  ReadUpdateKeys(top, error, source, config);
  top.RejectUnknownKeys();
  if (error) return Fail(std::move(*error));
  return config;
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (!text.starts_with(kEnvPrefix)) continue;
    const std::size_t eq = text.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
  }
  return env;
}

Result<AgentConfig> LoadConfig(const fs::path& path) {
  auto bytes = platform::posix::ReadFile(path, kMaxConfigBytes);
  if (!bytes) return Fail(std::move(bytes).error().WithContext("agent configuration"));
  return ParseConfig(AsChars(*bytes), path.string(), ProcessEnvironment());
}

}  // namespace aloft::agent::config
