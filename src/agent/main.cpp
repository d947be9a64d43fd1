// aloft-agent, the device agent. Composition root: parse the command line, load the
// configuration, assemble the agent (client/agent_runtime.hpp) and run one command.
//
//   aloft-agent [-c FILE] enroll            create the device key if needed and enroll
//   aloft-agent [-c FILE] status [--json]   identity, slots, installed image, update state
//   aloft-agent [-c FILE] flush-reports     deliver queued reports
//   aloft-agent [-c FILE] check [--json]    one poll: resume, check in, act on it
//   aloft-agent [-c FILE] daemon            poll until SIGTERM
//   aloft-agent [-c FILE] install FILE|URL  install an offline bundle (directory, tar, URL)
//   aloft-agent [-c FILE] commit            commit the running trial (no health checks)
//   aloft-agent [-c FILE] rollback          abandon the running or prepared trial
//   aloft-agent [-c FILE] simulate-reboot   simulated bootloader only: one power cycle
//
// Exit status (for scripts; `--json` prints the outcome too):
//   0   done, or nothing to do (up to date; an update was committed)
//   1   error (configuration, server unreachable, local I/O, corrupt state, nothing to commit
//       or roll back); the message says which
//   2   usage
//   3   refused: the assigned image or the bundle failed verification (Director and Image
//       repository disagree, wrong hardware id, security counter below the installed one,
//       bad signature, hash or length)
//   4   failed: the install failed or the trial was rolled back (now, or earlier and not
//       retried)
//   5   not accepted: the server has not accepted this device (yet)
//   6   simulate-reboot: the slot booted but hung (call simulate-reboot again, as a watchdog)
//   75  reboot requested: a trial boot, or the way back from one, waits for a reboot. With the
//       simulated bootloader (and no reboot_command) this is how the agent "reboots": run
//       `aloft-agent simulate-reboot`, then start the agent again.
// Keys and tokens are never printed.

#include <csignal>
#include <exception>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>

#include "agent/bundle/bundle_reader.hpp"
#include "agent/client/agent_runtime.hpp"
#include "agent/client/daemon.hpp"
#include "agent/config/config.hpp"
#include "agent/identity/device_api_client.hpp"
#include "agent/identity/device_identity.hpp"
#include "agent/report/report_queue.hpp"
#include "agent/slots/simulated_bootloader.hpp"
#include "agent/update/rebooters.hpp"
#include "agent/update/update_record.hpp"
#include "core/codec/json.hpp"
#include "platform/http/json_client.hpp"
#include "platform/posix/system_clock.hpp"

#ifndef ALOFT_AGENT_VERSION
#define ALOFT_AGENT_VERSION "0.0.0"
#endif

namespace {

using namespace aloft;
using agent::client::CheckResult;
using agent::client::Outcome;
using agent::config::AgentConfig;
using core::codec::Json;

constexpr int kExitError = 1;
constexpr int kExitRefused = 3;
constexpr int kExitFailed = 4;
constexpr int kExitNotAccepted = 5;
constexpr int kExitHung = 6;

volatile std::sig_atomic_t g_stop = 0;
extern "C" void OnStopSignal(int) { g_stop = 1; }
bool StopRequested() { return g_stop != 0; }

int Report(const Error& error) {
  std::cerr << "aloft-agent: " << error.message() << "\n";
  return kExitError;
}

void Log(std::string_view message) { std::cerr << "aloft-agent: " << message << "\n"; }

int ExitCode(Outcome outcome) {
  switch (outcome) {
    case Outcome::kUpToDate:
    case Outcome::kCommitted:
      return 0;
    case Outcome::kRebootRequested:
      return agent::update::kExitRebootRequested;
    case Outcome::kRefused:
      return kExitRefused;
    case Outcome::kSkipped:
    case Outcome::kFailed:
    case Outcome::kRolledBack:
      return kExitFailed;
    case Outcome::kNotAccepted:
      return kExitNotAccepted;
  }
  return kExitError;
}

// Prints the outcomes of one command (the resume's, if any, then the command's) and returns the
// exit status: the command's, unless it is 0 and the resume said something more.
int Finish(const std::vector<CheckResult>& results, bool json) {
  int code = 0;
  Json::Array list;
  for (const CheckResult& r : results) {
    const int c = ExitCode(r.outcome);
    if (c != 0) code = c;
    list.push_back(Json::Object{{"outcome", std::string(agent::client::OutcomeName(r.outcome))},
                                {"message", r.message}});
    if (!json) std::cout << agent::client::OutcomeName(r.outcome) << ": " << r.message << "\n";
  }
  if (json) {
    std::cout << core::codec::DumpJson(Json::Object{{"results", std::move(list)},
                                                    {"exitCode", std::int64_t{code}}},
                                       true)
              << "\n";
  }
  return code;
}

Result<std::unique_ptr<agent::client::AgentRuntime>> MakeRuntime(const AgentConfig& config) {
  agent::client::RuntimeOptions options;
  options.stop_requested = StopRequested;
  options.log = Log;
  options.agent_version = ALOFT_AGENT_VERSION;
  return agent::client::AgentRuntime::Create(config, std::move(options));
}

Result<std::unique_ptr<platform::http::JsonClient>> MakeClient(const AgentConfig& config) {
  platform::http::JsonClientOptions options;
  options.ca_file = config.ca_file;
  options.allow_insecure_loopback = config.allow_insecure_loopback;
  return platform::http::JsonClient::Create(options);
}

int Enroll(const AgentConfig& config) {
  auto identity = agent::identity::DeviceIdentity::LoadOrCreate(config);
  if (!identity) return Report(identity.error());
  auto token = agent::identity::ReadEnrollmentToken(config);
  if (!token) return Report(token.error());
  auto client = MakeClient(config);
  if (!client) return Report(client.error());
  agent::identity::Enroller enroller(**client, *identity, config.server_url, *token);
  auto status = enroller.Enroll();
  if (!status) return Report(status.error());
  std::cout << "device " << identity->device_id() << " (key " << identity->KeyId() << "): "
            << core::wire::EnrollmentStatusName(*status) << "\n";
  return 0;
}

int ShowStatus(const AgentConfig& config, bool json) {
  auto identity = agent::identity::DeviceIdentity::LoadOrCreate(config);
  if (!identity) return Report(identity.error());
  auto bootloader = agent::client::MakeBootloader(config);
  if (!bootloader) return Report(bootloader.error());
  auto state = (*bootloader)->State();
  if (!state) return Report(state.error());
  auto queue = agent::report::ReportQueue::Open(config.data_dir / "reports");
  if (!queue) return Report(queue.error());
  Json out = Json::Object{
      {"deviceId", identity->device_id()},
      {"hardwareId", identity->hardware_id()},
      {"keyId", identity->KeyId()},
      {"server", config.server_url},
      {"bootedSlot", std::string(agent::slots::SlotIdName(state->booted))},
      {"nextSlot", std::string(agent::slots::SlotIdName(state->primary))},
      {"trialBoot", state->IsTrialBoot()},
      {"trialPending", state->TrialPending()},
      {"pendingReports", static_cast<std::int64_t>(queue->Pending().size())}};
  // The record is read on its own, so that status still answers when it is corrupt.
  auto record = agent::update::UpdateRecordFile(config.data_dir).Load();
  if (!record) {
    out["updateState"] = "unreadable: " + record.error().message();
  } else {
    out["imageVersion"] = record->installed.version;
    out["imageSha256"] = record->installed.sha256;
    out["securityCounter"] = record->installed.security_counter;
    out["updateState"] = std::string(agent::update::StateName(record->state));
    if (record->state != agent::update::State::kIdle) {
      out["updateDeployment"] = record->deployment_id;
      out["updateTarget"] = record->target_path;
      out["updateVersion"] = record->image_version;
      out["updateSlot"] = std::string(agent::slots::SlotIdName(record->target_slot));
      out["updateAttempt"] = record->attempt;
      if (!record->last_error.empty()) out["lastError"] = record->last_error;
    }
  }
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
  auto tokens = agent::identity::TokenSource::Create(**client, *identity, config.server_url, clock);
  if (!tokens) return Report(tokens.error());
  agent::identity::DeviceApiClient api(**client, *tokens, config.server_url);
  auto queue = agent::report::ReportQueue::Open(config.data_dir / "reports");
  if (!queue) return Report(queue.error());
  auto sent = queue->Flush(api);
  if (!sent) return Report(sent.error());
  std::cout << *sent << " report(s) delivered, " << queue->Pending().size() << " pending\n";
  return 0;
}

int Check(const AgentConfig& config, bool json) {
  auto runtime = MakeRuntime(config);
  if (!runtime) return Report(runtime.error());
  agent::client::UpdateClient& client = (*runtime)->client();
  std::vector<CheckResult> results;
  auto started = client.Start();
  if (!started) return Report(started.error());
  if (*started) results.push_back(**started);
  if (!(*runtime)->reboot_requested()) {
    auto checked = client.CheckOnce();
    if (!checked) {
      if (!results.empty()) (void)Finish(results, json);
      return Report(checked.error());
    }
    results.push_back(std::move(*checked));
  } else {
    (void)client.FlushReports();  // best effort before the reboot
  }
  return Finish(results, json);
}

int Daemon(const AgentConfig& config) {
  auto runtime = MakeRuntime(config);
  if (!runtime) return Report(runtime.error());
  agent::client::DaemonOptions options;
  options.poll_interval = config.poll_interval;
  options.poll_jitter_percent = config.poll_jitter_percent;
  options.reboot_is_exit = (*runtime)->reboot_is_exit();
  options.stop_requested = StopRequested;
  options.sleep = agent::client::InterruptibleSleep(StopRequested);
  options.log = Log;
  Log("daemon started (device " + config.device_id + ", server " + config.server_url + ")");
  const int code = agent::client::RunDaemon((*runtime)->client(), options);
  Log(code == agent::update::kExitRebootRequested ? "stopping for the reboot" : "stopped");
  return code;
}

int Install(const AgentConfig& config, const std::string& source, bool json) {
  auto runtime = MakeRuntime(config);
  if (!runtime) return Report(runtime.error());
  std::unique_ptr<agent::bundle::BundleReader> reader;
  if (source.starts_with("https://") || source.starts_with("http://")) {
    if (Status allowed = platform::http::CheckUrlAllowed(source, config.allow_insecure_loopback);
        !allowed) {
      return Report(allowed.error());
    }
    reader = agent::bundle::OpenBundleUrl(source, (*runtime)->public_fetcher(),
                                          (*runtime)->download());
  } else {
    std::error_code ec;
    auto opened = std::filesystem::is_directory(source, ec)
                      ? agent::bundle::OpenBundleDirectory(source)
                      : agent::bundle::OpenBundleTar(source);
    if (!opened) return Report(opened.error());
    reader = std::move(*opened);
  }
  agent::client::UpdateClient& client = (*runtime)->client();
  std::vector<CheckResult> results;
  auto started = client.Start();
  if (!started) return Report(started.error());
  if (*started) results.push_back(**started);
  if (!(*runtime)->reboot_requested()) {
    auto installed = client.InstallBundle(*reader);
    if (!installed) return Report(installed.error());
    results.push_back(std::move(*installed));
  }
  // An offline device keeps its reports queued for later; that is not an error here.
  if (auto sent = client.FlushReports(); !sent && !json) {
    std::cerr << "aloft-agent: reports stay queued: " << sent.error().message() << "\n";
  }
  return Finish(results, json);
}

int Decide(const AgentConfig& config, bool commit, bool json) {
  auto runtime = MakeRuntime(config);
  if (!runtime) return Report(runtime.error());
  auto result = commit ? (*runtime)->client().Commit() : (*runtime)->client().Rollback();
  if (!result) return Report(result.error());
  // The operator asked for it: a rollback done is a success (75 when it needs the reboot).
  const int code = Finish({*result}, json);
  return result->outcome == Outcome::kRebootRequested ? code : 0;
}

int SimulateReboot(const AgentConfig& config) {
  if (config.bootloader.kind != agent::config::BootloaderKind::kSimulated) {
    return Report(Error(Errc::kInvalidArgument,
                        "simulate-reboot needs the simulated bootloader ([bootloader] kind = "
                        "\"simulated\")"));
  }
  auto bootloader = agent::slots::SimulatedBootloader::Open(config.bootloader.env);
  if (!bootloader) return Report(bootloader.error());
  auto outcome = (*bootloader)->SimulateReboot();
  if (!outcome) return Report(outcome.error());
  auto state = (*bootloader)->State();
  if (!state) return Report(state.error());
  const std::string slot = "slot " + std::string(agent::slots::SlotIdName(outcome->booted));
  if (outcome->fell_back) {
    std::cout << "fell back to " << slot << ": the trial ran out of boot attempts\n";
  } else if (state->IsTrialBoot()) {
    std::cout << "booted " << slot << " on trial (attempt " << state->boot_count << " of "
              << state->boot_limit << ")\n";
  } else {
    std::cout << "booted " << slot << "\n";
  }
  if (!outcome->came_up) {
    std::cout << slot << " hung: run simulate-reboot again (the watchdog)\n";
    return kExitHung;
  }
  return 0;
}

int Run(int argc, char** argv) {
  CLI::App app{"aloft-agent: the Aloft device agent"};
  app.require_subcommand(1);
  std::string config_path = "/etc/aloft/agent.toml";
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  bool json = false;
  auto* enroll = app.add_subcommand("enroll", "create the device key if needed and enroll");
  auto* status = app.add_subcommand("status", "identity, slots, image and update state");
  status->add_flag("--json", json, "machine-readable output");
  auto* flush = app.add_subcommand("flush-reports", "deliver queued reports to the server");
  auto* check = app.add_subcommand("check", "one poll: resume, check in, act on it");
  check->add_flag("--json", json, "machine-readable output");
  auto* daemon = app.add_subcommand("daemon", "poll the server until SIGTERM");
  auto* install = app.add_subcommand("install", "install an offline update bundle");
  std::string source;
  install->add_option("bundle", source, "bundle directory, tar file or URL")->required();
  install->add_flag("--json", json, "machine-readable output");
  auto* commit = app.add_subcommand("commit", "commit the running trial boot");
  commit->add_flag("--json", json, "machine-readable output");
  auto* rollback = app.add_subcommand("rollback", "abandon the running or prepared trial boot");
  rollback->add_flag("--json", json, "machine-readable output");
  auto* reboot = app.add_subcommand("simulate-reboot",
                                    "simulated bootloader only: play one power cycle");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto config = agent::config::LoadConfig(config_path);
  if (!config) return Report(config.error());
  std::signal(SIGTERM, OnStopSignal);
  std::signal(SIGINT, OnStopSignal);
  if (*enroll) return Enroll(*config);
  if (*status) return ShowStatus(*config, json);
  if (*flush) return FlushReports(*config);
  if (*check) return Check(*config, json);
  if (*daemon) return Daemon(*config);
  if (*install) return Install(*config, source, json);
  if (*commit) return Decide(*config, true, json);
  if (*rollback) return Decide(*config, false, json);
  if (*reboot) return SimulateReboot(*config);
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
