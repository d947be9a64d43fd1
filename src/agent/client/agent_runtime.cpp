#include "agent/client/agent_runtime.hpp"

#include <thread>

#include "agent/client/report_sink.hpp"
#include "agent/slots/grub/grub_bootloader.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/slots/uboot/uboot_bootloader.hpp"
#include "agent/update/health_check.hpp"
#include "agent/update/rebooters.hpp"
#include "platform/http/curl_fetcher.hpp"
#include "platform/http/json_client.hpp"
#include "platform/posix/system_clock.hpp"

namespace aloft::agent::client {
namespace {

using config::AgentConfig;
using config::BootloaderKind;
namespace http = platform::http;

constexpr std::chrono::seconds kRebootCommandTimeout{60};

}  // namespace

Result<std::unique_ptr<slots::Bootloader>> MakeBootloader(const AgentConfig& config) {
  switch (config.bootloader.kind) {
    case BootloaderKind::kSimulated: {
      auto b = slots::SimulatedBootloader::Open(config.bootloader.env);
      if (!b) return Fail(b.error());
      return std::unique_ptr<slots::Bootloader>(std::move(*b));
    }
    case BootloaderKind::kUboot: {
      slots::uboot::UbootOptions options;
      if (!config.bootloader.env.empty()) options.config = config.bootloader.env;
      return slots::uboot::CreateUbootBootloader(std::move(options));
    }
    case BootloaderKind::kGrub: {
      slots::grub::GrubOptions options;
      if (!config.bootloader.env.empty()) options.env_file = config.bootloader.env;
      return slots::grub::CreateGrubBootloader(std::move(options));
    }
  }
  return Fail(Errc::kInternal, "unknown bootloader kind");
}

namespace {

std::vector<update::HealthCommand> HealthCommands(const AgentConfig& config) {
  std::vector<update::HealthCommand> out;
  for (const config::HealthCheck& check : config.health_checks) {
    out.push_back(
        {check.command, std::chrono::duration_cast<std::chrono::milliseconds>(check.timeout)});
  }
  return out;
}

}  // namespace

download::SleepFn InterruptibleSleep(std::function<bool()> stop) {
  return [stop = std::move(stop)](std::chrono::milliseconds delay) {
    const auto end = std::chrono::steady_clock::now() + delay;
    while (true) {
      if (stop && stop()) return false;
      const auto now = std::chrono::steady_clock::now();
      if (now >= end) return true;
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(end - now, std::chrono::milliseconds(200)));
    }
  };
}

// Everything the runtime owns, in construction order (destroyed in reverse).
struct AgentRuntime::Parts {
  AgentConfig config;
  RuntimeOptions options;
  platform::posix::SystemClock system_clock;
  const Clock* clock = nullptr;
  std::optional<identity::DeviceIdentity> identity;
  std::unique_ptr<http::JsonClient> json;
  std::optional<identity::TokenSource> tokens;
  std::optional<identity::DeviceApiClient> api;
  std::optional<identity::Enroller> enroller;
  std::unique_ptr<http::CurlFetcher> metadata_fetcher;
  std::unique_ptr<http::CurlFetcher> public_fetcher;
  std::optional<download::CurlRangeSource> range_source;
  std::optional<download::ResumableDownload> download;
  std::optional<uptane_client::UptaneClient> uptane;
  std::unique_ptr<slots::Bootloader> bootloader;
  std::optional<update::UpdateRecordFile> records;
  std::optional<report::ReportQueue> reports;
  std::optional<QueueReportSink> sink;
  std::optional<update::CommandHealthChecker> health;
  std::optional<update::CommandRebooter> command_rebooter;
  update::DeferredRebooter deferred_rebooter;
  std::optional<update::UpdateMachine> machine;
  std::optional<AgentStateFile> state_file;
  std::optional<UpdateClient> client;

  bool reboot_is_exit() const { return !command_rebooter.has_value(); }
  bool reboot_requested() const {
    return command_rebooter ? command_rebooter->requested() : deferred_rebooter.requested();
  }
};

AgentRuntime::AgentRuntime(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
AgentRuntime::~AgentRuntime() = default;

Result<std::unique_ptr<AgentRuntime>> AgentRuntime::Create(const AgentConfig& config,
                                                           RuntimeOptions options) {
  auto p = std::make_unique<Parts>();
  Parts& parts = *p;
  parts.config = config;
  parts.options = std::move(options);
  parts.clock = parts.options.clock != nullptr ? parts.options.clock : &parts.system_clock;
  if (!parts.options.sleep) parts.options.sleep = InterruptibleSleep(parts.options.stop_requested);
  const AgentConfig& c = parts.config;

  auto identity = identity::DeviceIdentity::LoadOrCreate(c);
  if (!identity) return Fail(std::move(identity).error());
  parts.identity.emplace(std::move(*identity));

  http::JsonClientOptions json_options;
  json_options.ca_file = c.ca_file;
  json_options.allow_insecure_loopback = c.allow_insecure_loopback;
  json_options.user_agent = "aloft-agent/" + parts.options.agent_version;
  auto json = http::JsonClient::Create(json_options);
  if (!json) return Fail(std::move(json).error());
  parts.json = std::move(*json);
  auto tokens =
      identity::TokenSource::Create(*parts.json, *parts.identity, c.server_url, *parts.clock);
  if (!tokens) return Fail(std::move(tokens).error());
  parts.tokens.emplace(std::move(*tokens));
  parts.api.emplace(*parts.json, *parts.tokens, c.server_url);
  auto enrollment_token = identity::ReadEnrollmentToken(c);
  // A missing token file only matters for a device that still has to enroll (an operator may
  // have preauthorized its key instead): say so, and go on without a token.
  if (!enrollment_token && parts.options.log) parts.options.log(enrollment_token.error().message());
  parts.enroller.emplace(*parts.json, *parts.identity, c.server_url,
                         enrollment_token ? *enrollment_token : std::string());

  http::CurlFetcherOptions fetch;
  fetch.ca_file = c.ca_file;
  fetch.allow_http = c.allow_insecure_loopback;
  fetch.http_loopback_only = true;
  fetch.user_agent = json_options.user_agent;
  fetch.cancelled = parts.options.stop_requested;
  http::CurlFetcherOptions public_fetch = fetch;
  public_fetch.max_recv_bytes_per_second = c.download.max_bytes_per_second;
  Parts* raw = &parts;
  fetch.bearer_token = [raw](bool renew) -> Result<std::string> {
    if (renew) raw->tokens->Invalidate();
    return raw->tokens->Token();
  };
  auto metadata_fetcher = http::CurlFetcher::Create(fetch);
  if (!metadata_fetcher) return Fail(std::move(metadata_fetcher).error());
  parts.metadata_fetcher = std::move(*metadata_fetcher);
  auto public_fetcher = http::CurlFetcher::Create(public_fetch);
  if (!public_fetcher) return Fail(std::move(public_fetcher).error());
  parts.public_fetcher = std::move(*public_fetcher);

  parts.range_source.emplace(*parts.public_fetcher);
  download::DownloadOptions download_options;
  download_options.retries = c.download.retries;
  download_options.retry_initial = c.download.retry_initial;
  download_options.retry_max = c.download.retry_max;
  download_options.deadline = c.limits.download_timeout;
  if (c.download.keep_partial) download_options.spool_dir = c.data_dir / "downloads";
  parts.download.emplace(*parts.range_source, *parts.clock, parts.options.sleep,
                         std::move(download_options));

  uptane_client::UptaneClientOptions uptane_options;
  uptane_options.server_url = c.server_url;
  uptane_options.metadata_dir = c.data_dir / "metadata";
  uptane_options.director_root = c.director_root.value_or("");
  uptane_options.image_root = c.image_root.value_or("");
  uptane_options.max_metadata_bytes = static_cast<std::size_t>(c.limits.max_metadata_bytes);
  uptane_options.delta_policy.accept_server_built = c.delta.accept_server_built;
  parts.uptane.emplace(std::move(uptane_options), *parts.metadata_fetcher, *parts.clock);

  auto bootloader = MakeBootloader(c);
  if (!bootloader) return Fail(std::move(bootloader).error());
  parts.bootloader = std::move(*bootloader);
  parts.records.emplace(c.data_dir);
  auto reports = report::ReportQueue::Open(c.data_dir / "reports");
  if (!reports) return Fail(std::move(reports).error());
  parts.reports.emplace(std::move(*reports));
  parts.sink.emplace(*parts.reports);

  // The checks see which image they judge: the slot running now (the trial slot when they
  // run), its device and the version the update record names.
  parts.health.emplace(HealthCommands(c), [raw]() {
    std::vector<std::string> env;
    slots::SlotId slot = raw->machine ? raw->machine->record().target_slot : slots::SlotId::kA;
    if (auto boot = raw->bootloader->State()) slot = boot->booted;
    env.push_back("ALOFT_SLOT=" + std::string(slots::SlotIdName(slot)));
    env.push_back("ALOFT_SLOT_PATH=" + raw->config.slots.Get(slot).device.string());
    env.push_back("ALOFT_IMAGE_VERSION=" +
                  (raw->machine ? raw->machine->record().image_version : std::string()));
    return env;
  });
  std::vector<std::string> reboot_command = c.reboot_command;
  if (reboot_command.empty() && c.bootloader.kind != BootloaderKind::kSimulated) {
    reboot_command = {"/sbin/reboot"};
  }
  if (!reboot_command.empty()) {
    parts.command_rebooter.emplace(std::move(reboot_command), kRebootCommandTimeout);
  }
  update::Rebooter& rebooter = parts.command_rebooter
                                   ? static_cast<update::Rebooter&>(*parts.command_rebooter)
                                   : parts.deferred_rebooter;
  auto machine = update::UpdateMachine::Open(update::UpdateMachine::Deps{
      *parts.records, *parts.bootloader, *parts.sink, *parts.health, rebooter, *parts.clock});
  if (!machine) return Fail(std::move(machine).error());
  parts.machine.emplace(std::move(*machine));
  parts.state_file.emplace(c.data_dir);

  parts.client.emplace(UpdateClientDeps{
      .config = parts.config,
      .identity = *parts.identity,
      .enroller = *parts.enroller,
      .api = *parts.api,
      .uptane = *parts.uptane,
      .download = *parts.download,
      .reports = *parts.reports,
      .machine = *parts.machine,
      .bootloader = *parts.bootloader,
      .state_file = *parts.state_file,
      .clock = *parts.clock,
      .reboot_requested = [raw] { return raw->reboot_requested(); },
      .agent_version = parts.options.agent_version,
      .log = parts.options.log,
      .machine_reports = &*parts.sink,
  });
  return std::unique_ptr<AgentRuntime>(new AgentRuntime(std::move(p)));
}

UpdateClient& AgentRuntime::client() noexcept { return *parts_->client; }
slots::Bootloader& AgentRuntime::bootloader() noexcept { return *parts_->bootloader; }
report::ReportQueue& AgentRuntime::reports() noexcept { return *parts_->reports; }
download::ResumableDownload& AgentRuntime::download() noexcept { return *parts_->download; }
core::metadata::Fetcher& AgentRuntime::public_fetcher() noexcept { return *parts_->public_fetcher; }
const identity::DeviceIdentity& AgentRuntime::identity() const noexcept {
  return *parts_->identity;
}
const config::AgentConfig& AgentRuntime::config() const noexcept { return parts_->config; }
bool AgentRuntime::reboot_requested() const noexcept { return parts_->reboot_requested(); }
bool AgentRuntime::reboot_is_exit() const noexcept { return parts_->reboot_is_exit(); }

}  // namespace aloft::agent::client
