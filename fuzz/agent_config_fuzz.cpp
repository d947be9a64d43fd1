// aloft-agent's TOML configuration (agent/config). Invariants:
//  - every rejection is kInvalidArgument and names the file;
//  - an accepted configuration obeys the rules config.hpp documents: ids in the id alphabet,
//    absolute paths, https (or loopback http when allowed) server URL, values in range, not
//    both enrollment_token and enrollment_token_file, retry_max >= retry_initial;
//  - the environment wins: ALOFT_AGENT_POLL_INTERVAL_SECONDS=60 on an accepted file gives 60 s;
//  - parsing is deterministic.

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/config/config.hpp"
#include "core/wire/device_api.hpp"
#include "fuzz/check.hpp"

namespace {

using aloft::Errc;
using aloft::agent::config::AgentConfig;
using aloft::agent::config::Environment;
using aloft::agent::config::ParseConfig;
using aloft::fuzz::Check;

constexpr std::string_view kSource = "fuzz.toml";

void CheckRules(const AgentConfig& c) {
  // The scheme as libcurl reads it: case-insensitive, and "https:/host" (one slash) is https.
  std::string scheme = c.server_url.substr(0, c.server_url.find(':') + 1);
  for (char& ch : scheme) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  Check(scheme == "https:" || (c.allow_insecure_loopback && scheme == "http:"),
        "the server URL is https, or http only where insecure loopback is allowed");
  Check(aloft::core::wire::IsValidId(c.device_id) && aloft::core::wire::IsValidId(c.hardware_id),
        "ids use the id alphabet");
  Check(c.data_dir.is_absolute() && c.key_file.is_absolute(), "paths are absolute");
  Check(!c.ca_file || c.ca_file->is_absolute(), "the CA path is absolute");
  Check(c.enrollment_token.empty() || !c.enrollment_token_file,
        "not both enrollment_token and enrollment_token_file");
  Check(c.poll_interval.count() >= 10 && c.poll_interval.count() <= 7 * 24 * 3600,
        "poll interval in range");
  Check(c.poll_jitter_percent >= 0 && c.poll_jitter_percent <= 90, "jitter in range");
  Check(c.max_update_attempts >= 1 && c.max_update_attempts <= 100, "attempts in range");
  Check(c.download.retries >= 0 && c.download.retries <= 100, "retries in range");
  Check(c.download.retry_max >= c.download.retry_initial, "retry_max >= retry_initial");
  for (const auto& check : c.health_checks) {
    Check(!check.command.empty() && std::string_view(check.command.front()).starts_with('/'),
          "health check commands are absolute paths");
  }
  for (const auto& [name, value] : c.attributes) {
    Check(aloft::core::wire::IsValidId(name), "attribute names use the id alphabet");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseConfig(text, kSource);
  auto again = ParseConfig(text, kSource);
  Check(parsed.has_value() == again.has_value(), "parsing is deterministic");
  if (!parsed) {
    Check(parsed.error().code() == Errc::kInvalidArgument, "rejections are kInvalidArgument");
    Check(parsed.error().message().starts_with(kSource), "rejections name the file");
    Check(parsed.error().message() == again.error().message(), "the same input, the same error");
    return 0;
  }
  CheckRules(*parsed);
  Check(parsed->server_url == again->server_url && parsed->device_id == again->device_id &&
            parsed->data_dir == again->data_dir && parsed->attributes == again->attributes,
        "the same input, the same configuration");

  const Environment env = {{"ALOFT_AGENT_POLL_INTERVAL_SECONDS", "60"}};
  auto overridden = ParseConfig(text, kSource, env);
  Check(overridden.has_value(), "a valid environment override of a valid file is accepted");
  Check(overridden->poll_interval.count() == 60, "the environment wins over the file");
  Check(overridden->device_id == parsed->device_id && overridden->server_url == parsed->server_url,
        "an override changes only its key");
  return 0;
}
