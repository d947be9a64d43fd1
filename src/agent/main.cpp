// aloft-agent, the device agent. Composition root: parse the command line, load the
// configuration, build the adapters (libcurl, files, bootloader) and run one command.
//
// Commands available now: enroll, status, flush-reports. The update commands (daemon, check,
// install, commit, rollback) arrive with the update state machine.

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "agent/config/config.hpp"
#include "agent/identity/device_api_client.hpp"
#include "agent/identity/device_identity.hpp"
#include "agent/report/report_queue.hpp"
#include "agent/slots/grub/grub_bootloader.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/slots/uboot/uboot_bootloader.hpp"
#include "core/codec/json.hpp"
#include "platform/http/json_client.hpp"
#include "platform/posix/system_clock.hpp"

namespace {

using namespace aloft;
using agent::config::AgentConfig;
using agent::config::BootloaderKind;

int Report(const Error& error) {
  std::cerr << "aloft-agent: " << error.message() << "\n";
  return 1;
}

Result<std::unique_ptr<agent::slots::Bootloader>> MakeBootloader(const AgentConfig& config) {
  switch (config.bootloader.kind) {
    case BootloaderKind::kSimulated: {
      auto b = agent::slots::SimulatedBootloader::Open(config.bootloader.env);
      if (!b) return Fail(b.error());
      return std::unique_ptr<agent::slots::Bootloader>(std::move(*b));
    }
    case BootloaderKind::kUboot: {
      agent::slots::uboot::UbootOptions options;
      if (!config.bootloader.env.empty()) options.config = config.bootloader.env;
      return agent::slots::uboot::CreateUbootBootloader(std::move(options));
    }
    case BootloaderKind::kGrub: {
      agent::slots::grub::GrubOptions options;
      if (!config.bootloader.env.empty()) options.env_file = config.bootloader.env;
      return agent::slots::grub::CreateGrubBootloader(std::move(options));
    }
  }
  return Fail(Errc::kInternal, "unknown bootloader kind");
}

Result<std::unique_ptr<platform::http::JsonClient>> MakeClient(const AgentConfig& config) {
  platform::http::JsonClientOptions options;
  options.ca_file = config.ca_file;
  options.allow_insecure_loopback = config.allow_insecure_loopback;
  return platform::http::JsonClient::Create(options);
}

std::string ServerBase(const AgentConfig& config) {
  std::string url = config.server_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

int Enroll(const AgentConfig& config) {
  auto identity = agent::identity::DeviceIdentity::LoadOrCreate(config);
  if (!identity) return Report(identity.error());
  auto token = agent::identity::ReadEnrollmentToken(config);
  if (!token) return Report(token.error());
  auto client = MakeClient(config);
  if (!client) return Report(client.error());
  agent::identity::Enroller enroller(**client, *identity, ServerBase(config), *token);
  auto status = enroller.Enroll();
  if (!status) return Report(status.error());
  std::cout << "device " << identity->device_id() << " (key " << identity->KeyId() << "): "
            << core::wire::EnrollmentStatusName(*status) << "\n";
  return 0;
}

int Status(const AgentConfig& config, bool json) {
  auto identity = agent::identity::DeviceIdentity::LoadOrCreate(config);
  if (!identity) return Report(identity.error());
  auto bootloader = MakeBootloader(config);
  if (!bootloader) return Report(bootloader.error());
  auto state = (*bootloader)->State();
  if (!state) return Report(state.error());
  auto queue = agent::report::ReportQueue::Open(config.data_dir / "reports");
  if (!queue) return Report(queue.error());
  core::codec::Json out = core::codec::Json::Object{
      {"deviceId", identity->device_id()},
      {"hardwareId", identity->hardware_id()},
      {"keyId", identity->KeyId()},
      {"server", config.server_url},
      {"bootedSlot", std::string(agent::slots::SlotIdName(state->booted))},
      {"nextSlot", std::string(agent::slots::SlotIdName(state->primary))},
      {"trialBoot", state->IsTrialBoot()},
      {"trialPending", state->TrialPending()},
      {"pendingReports", static_cast<std::int64_t>(queue->Pending().size())}};
  if (json) {
    std::cout << core::codec::DumpJson(out, true) << "\n";
    return 0;
  }
  for (const auto& [key, value] : out.AsObject()) {
    std::string text = value.IsString() ? value.AsString() : core::codec::DumpJson(value);
    std::cout << key << ": " << text << "\n";
  }
  return 0;
}

int FlushReports(const AgentConfig& config) {
  auto identity = agent::identity::DeviceIdentity::LoadOrCreate(config);
  if (!identity) return Report(identity.error());
  auto client = MakeClient(config);
  if (!client) return Report(client.error());
  platform::posix::SystemClock clock;
  auto tokens =
      agent::identity::TokenSource::Create(**client, *identity, ServerBase(config), clock);
  if (!tokens) return Report(tokens.error());
  agent::identity::DeviceApiClient api(**client, *tokens, ServerBase(config));
  auto queue = agent::report::ReportQueue::Open(config.data_dir / "reports");
  if (!queue) return Report(queue.error());
  auto sent = queue->Flush(api);
  if (!sent) return Report(sent.error());
  std::cout << *sent << " report(s) delivered, " << queue->Pending().size() << " pending\n";
  return 0;
}

int Run(int argc, char** argv) {
  CLI::App app{"aloft-agent: the Aloft device agent"};
  app.require_subcommand(1);
  std::string config_path = "/etc/aloft/agent.toml";
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  auto* enroll = app.add_subcommand("enroll", "create the device key if needed and enroll");
  auto* status = app.add_subcommand("status", "identity, slots and pending reports");
  bool json = false;
  status->add_flag("--json", json, "machine-readable output");
  auto* flush = app.add_subcommand("flush-reports", "deliver queued reports to the server");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto config = agent::config::LoadConfig(config_path);
  if (!config) return Report(config.error());
  if (*enroll) return Enroll(*config);
  if (*status) return Status(*config, json);
  if (*flush) return FlushReports(*config);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aloft-agent: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "aloft-agent: internal error\n";
  }
  return 1;
}
