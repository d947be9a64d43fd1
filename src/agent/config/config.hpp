#pragma once

// The agent's configuration: one TOML file (default /etc/aloft/agent.toml), validated as a
// whole before the agent does anything, so a typo stops the agent at start with a message
// naming the file and the key, not hours later in the middle of an update.
//
//   server_url = "https://ota.example.com"     # required; https only (see below)
//   allow_insecure_loopback = false            # allows http:// to 127.0.0.0/8, ::1, localhost
//   ca_file = "/etc/aloft/ca.pem"              # optional; the system store when absent
//   device_id = "dev-0042"                     # required, [A-Za-z0-9._:-]{1,128}
//   hardware_id = "rpi4"                       # required, same alphabet
//   data_dir = "/var/lib/aloft"                # default; created 0700
//   key_file = "/var/lib/aloft/device.key"     # default <data_dir>/device.key
//   enrollment_token = "..."                   # optional; or enrollment_token_file (not both)
//   poll_interval_seconds = 300                # 10 ..= 604800
//   poll_jitter_percent = 20                   # 0 ..= 90
//   [slots.a]  device = "/dev/mmcblk0p2"  kind = "block"      # kind: "block" | "file"
//   [slots.b]  device = "/dev/mmcblk0p3"  kind = "block"
//   [bootloader] kind = "uboot"  env = "/etc/fw_env.config"   # "uboot" | "grub" | "simulated"
//   [limits] max_image_bytes = ..., max_metadata_bytes = ..., download_timeout_seconds = ...
//   [[health_checks]] command = ["/usr/bin/check"], timeout_seconds = 60
//
// The update loop (all optional for `enroll` and `status`; `check`, `daemon` and `install`
// need the trust anchors):
//   director_root = "/etc/aloft/director-root.json"  # initial Director root.json (trust anchor,
//   image_root = "/etc/aloft/image-root.json"        # provisioned with the device image)
//   reboot_command = ["/sbin/reboot"]           # default; with the simulated bootloader the
//                                               # default is "exit 75" (see rebooters.hpp)
//   max_update_attempts = 3                     # 1 ..= 100: tries of one deployment after
//                                               # transient failures (never after a rollback)
//   tags = ["canary", "lab"]                    # sent in the inventory as attributes.tags
//   [attributes] site = "berlin"                # inventory attributes (ids → strings)
//   [download] max_bytes_per_second = 0         # bandwidth cap, 0 = none
//              retries = 5                      # 0 ..= 100 resumes after an interruption
//              retry_initial_seconds = 1        # back-off: doubles up to retry_max_seconds,
//              retry_max_seconds = 60           # with random jitter
//              keep_partial = true              # keep downloaded bytes (0600, <data_dir>/
//                                               # downloads) to resume after a restart
//              progress_interval_seconds = 5    # at most one progress report per interval
//   [delta] accept_server_built = true          # take deltas aloftd computed itself (signed by
//                                               # the Director only; the slot is still checked
//                                               # against the Image repository's digest)
//
// Rules: unknown keys anywhere are errors (typo safety); paths must be absolute (a daemon's
// working directory is no anchor); every error reads "<file>: <key>: <what is wrong>".
// Environment: ALOFT_AGENT_<KEY> (upper case) overrides each top-level scalar key, e.g.
// ALOFT_AGENT_SERVER_URL, ALOFT_AGENT_POLL_INTERVAL_SECONDS; booleans take true/false.
// Other ALOFT_AGENT_* variables are ignored.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/slots/slot.hpp"
#include "core/base/result.hpp"

namespace aloft::agent::config {

enum class BootloaderKind : std::uint8_t { kUboot, kGrub, kSimulated };

struct BootloaderConfig {
  BootloaderKind kind = BootloaderKind::kSimulated;
  // U-Boot: the fw_env.config (default /etc/fw_env.config); GRUB: the grubenv file (default
  // /boot/grub/grubenv); simulated: the state file (required).
  std::filesystem::path env;
};

struct Limits {
  std::uint64_t max_image_bytes = std::uint64_t{8} << 30;     // 8 GiB
  std::uint64_t max_metadata_bytes = std::uint64_t{1} << 20;  // 1 MiB per metadata file
  std::chrono::seconds download_timeout{std::chrono::hours(6)};
};

struct DownloadConfig {
  std::uint64_t max_bytes_per_second = 0;  // 0: no cap
  int retries = 5;
  std::chrono::seconds retry_initial{1};
  std::chrono::seconds retry_max{60};
  bool keep_partial = true;
  std::chrono::seconds progress_interval{5};
};

struct DeltaConfig {
  bool accept_server_built = true;  // core::uptane::DeltaPolicy
};

struct HealthCheck {
  std::vector<std::string> command;  // argv; command[0] is an absolute path
  std::chrono::seconds timeout{60};
};

struct AgentConfig {
  std::string server_url;
  bool allow_insecure_loopback = false;
  std::optional<std::filesystem::path> ca_file;
  std::string device_id;
  std::string hardware_id;
  std::filesystem::path data_dir = "/var/lib/aloft";
  std::filesystem::path key_file;  // <data_dir>/device.key unless set
  std::string enrollment_token;    // may be empty: the operator preauthorizes the key instead
  std::optional<std::filesystem::path> enrollment_token_file;
  std::chrono::seconds poll_interval{300};
  int poll_jitter_percent = 20;
  slots::SlotPair slots;
  BootloaderConfig bootloader;
  Limits limits;
  std::vector<HealthCheck> health_checks;
  std::optional<std::filesystem::path> director_root;
  std::optional<std::filesystem::path> image_root;
  std::vector<std::string> reboot_command;  // empty: the bootloader's default (see above)
  int max_update_attempts = 3;
  // Inventory attributes; `tags` arrive here as attributes["tags"] = "a,b" (sorted, unique).
  std::map<std::string, std::string> attributes;
  DownloadConfig download;
  DeltaConfig delta;
};

// ALOFT_AGENT_* variables, name → value.
using Environment = std::map<std::string, std::string, std::less<>>;

// Parses and validates `toml_text`; `source` names it in messages (usually the path). Values
// from `env` override top-level scalars. Every error is kInvalidArgument.
Result<AgentConfig> ParseConfig(std::string_view toml_text, std::string_view source,
                                const Environment& env = {});

// Reads `path` (kNotFound if missing, kIo if unreadable) and parses it with the process's
// ALOFT_AGENT_* environment.
Result<AgentConfig> LoadConfig(const std::filesystem::path& path);

// The ALOFT_AGENT_* variables of this process.
Environment ProcessEnvironment();

}  // namespace aloft::agent::config
