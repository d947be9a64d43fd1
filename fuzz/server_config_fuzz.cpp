// aloftd's TOML configuration (server/config). Invariants:
//  - every rejection is kInvalidArgument and names where it came from (the file or the
//    environment variable), so an operator can find the line;
//  - an accepted configuration is within the documented ranges (server_config.cpp's Keys());
//  - the environment wins over the file: the same text with ALOFTD_SERVER_THREADS=3 either
//    fails or runs 3 threads, and keeps every other value;
//  - parsing is a function of its input: a second parse gives the same answer.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "server/config/server_config.hpp"

namespace {

using aloft::Errc;
using aloft::fuzz::Check;
using aloft::server::config::ParseServerConfig;
using aloft::server::config::ServerConfig;

constexpr std::string_view kSource = "fuzz.toml";

bool InRange(const ServerConfig& c) {
  return c.threads >= 1 && c.threads <= 64 && c.shutdown_drain.count() >= 0 &&
         c.shutdown_drain.count() <= 600 && c.per_ip_requests_per_second >= 0.01 &&
         c.per_ip_requests_per_second <= 1e6 && c.per_ip_burst >= 1 && c.per_ip_burst <= 1e7 &&
         c.per_device_requests_per_second >= 0.001 && c.per_device_requests_per_second <= 1e5 &&
         c.per_device_burst >= 1 && c.per_device_burst <= 1e6 &&
         c.device_token_lifetime.count() >= 60 && c.device_token_lifetime.count() <= 86400 &&
         c.fleet_sample_interval.count() >= 1 && c.fleet_sample_interval.count() <= 86400 &&
         c.max_artifact_bytes >= 1 && c.max_artifact_bytes <= (std::int64_t{1} << 40) &&
         !c.data_dir.empty() &&
         (c.public_url.starts_with("https://") || c.public_url.starts_with("http://"));
}

// Every member, as text: ServerConfig has no operator==.
std::string Describe(const ServerConfig& c) {
  return c.listen_address + "|" + std::to_string(c.listen_port) + "|" + c.public_url + "|" +
         std::to_string(c.behind_tls_proxy) + std::to_string(c.access_log) + "|" +
         std::to_string(c.shutdown_drain.count()) + "|" + c.tls_cert_file.string() + "|" +
         c.tls_key_file.string() + "|" + c.tls_client_ca_file.string() + "|" +
         std::to_string(static_cast<int>(c.client_certs)) + "|" + c.data_dir.string() + "|" +
         std::to_string(c.per_ip_requests_per_second) + "|" + std::to_string(c.per_ip_burst) + "|" +
         std::to_string(c.per_device_requests_per_second) + "|" +
         std::to_string(c.per_device_burst) + "|" +
         std::to_string(c.device_token_lifetime.count()) + "|" +
         std::to_string(c.fleet_sample_interval.count()) + "|" +
         std::to_string(c.max_artifact_bytes) + "|" + c.metrics_token_file.string() + "|" +
         c.kek_file.string() + "|" + c.console_dir.string();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseServerConfig(text, kSource, {});
  auto again = ParseServerConfig(text, kSource, {});
  Check(parsed.has_value() == again.has_value(), "parsing is deterministic");
  if (!parsed) {
    Check(parsed.error().code() == Errc::kInvalidArgument, "rejections are kInvalidArgument");
    Check(parsed.error().message().starts_with(kSource), "rejections name the file");
    Check(parsed.error().message() == again.error().message(), "the same input, the same error");
    return 0;
  }
  Check(InRange(*parsed), "an accepted configuration is within the documented ranges");
  Check(Describe(*parsed) == Describe(*again), "the same input, the same configuration");

  const std::map<std::string, std::string> env = {{"ALOFTD_SERVER_THREADS", "3"}};
  auto overridden = ParseServerConfig(text, kSource, env);
  Check(overridden.has_value(), "a valid environment override of a valid file is accepted");
  Check(overridden->threads == 3, "the environment wins over the file");
  overridden->threads = parsed->threads;
  Check(Describe(*overridden) == Describe(*parsed), "an override changes only its key");

  const std::map<std::string, std::string> bad = {{"ALOFTD_SERVER_THREADS", "0"}};
  auto refused = ParseServerConfig(text, kSource, bad);
  Check(!refused && refused.error().message().starts_with("environment ALOFTD_SERVER_THREADS"),
        "a bad environment value is refused and named");
  return 0;
}
