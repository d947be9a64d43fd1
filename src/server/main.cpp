// aloftd, the Aloft update server. Composition root: parse the command line, load the
// configuration, run one command. Everything else lives in server/app.

#include <csignal>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "server/app/app.hpp"

namespace {

using aloft::server::config::ServerConfig;

int Report(const aloft::Error& error) {
  std::cerr << "aloftd: " << error.message() << "\n";
  return 1;
}

// Blocks SIGTERM and SIGINT in every thread (server threads inherit the mask), so the main
// thread can wait for them with sigwait and shut down in order.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int Run(int argc, char** argv) {
  CLI::App app{"aloftd: the Aloft update server"};
  app.footer("Configuration keys (TOML file, or environment ALOFTD_<SECTION>_<KEY>):\n" +
             aloft::server::config::ConfigReference());
  app.require_subcommand(1);
  std::string config_path = "/etc/aloftd/aloftd.toml";
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();

  auto* serve = app.add_subcommand("serve", "serve the device API until SIGTERM");
  auto* init = app.add_subcommand("init", "create the data directory, secrets and database");
  bool generate_tls = false;
  init->add_flag("--generate-tls", generate_tls,
                 "generate a CA and a server certificate at the [tls] paths");
  auto* backup = app.add_subcommand(
      "backup", "copy the database (online, consistent) and the artifact blobs to a directory");
  std::string backup_dest;
  backup->add_option("DEST", backup_dest, "destination directory (created 0700)")->required();
  std::string admin_username = "admin";
  std::string admin_password_file;
  init->add_option("--admin", admin_username, "name of the first operator account (role admin)");
  init->add_option("--admin-password-file", admin_password_file,
                   "write the admin's one-time password to this file (0600) instead of printing it");
  auto* token = app.add_subcommand("enroll-token", "create a fleet enrollment token (printed once)");
  int uses = 100;
  int hours = 24 * 7;
  token->add_option("--uses", uses, "devices that may enroll with it")->check(CLI::Range(1, 1000000));
  token->add_option("--valid-hours", hours, "validity")->check(CLI::Range(1, 24 * 365));
  auto* device = app.add_subcommand("device", "decide about a device (server host only)");
  std::string decision, device_id;
  device->add_option("decision", decision, "accept | reject | decommission")
      ->required()
      ->check(CLI::IsMember({"accept", "reject", "decommission"}));
  device->add_option("device-id", device_id, "device id")->required();
  auto* repo_keys = app.add_subcommand(
      "repo-keys", "print the online snapshot/timestamp keys the offline Image root must list");
  auto* devices = app.add_subcommand("devices", "list devices");
  bool json = false;
  devices->add_flag("--json", json, "machine-readable output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto config = aloft::server::config::LoadServerConfig(config_path);
  if (!config) return Report(config.error());

  if (*init) {
    aloft::server::app::InitOptions options;
    options.generate_tls = generate_tls;
    options.admin_username = admin_username;
    options.admin_password_file = admin_password_file;
    auto summary = aloft::server::app::Init(*config, options);
    if (!summary) return Report(summary.error());
    std::cout << *summary;
    return 0;
  }
  if (*token) {
    auto secret = aloft::server::app::CreateEnrollmentToken(*config, uses, std::chrono::hours(hours));
    if (!secret) return Report(secret.error());
    std::cout << *secret << "\n";
    return 0;
  }
  if (*device) {
    auto done = aloft::server::app::DeviceDecision(*config, device_id, decision);
    if (!done) return Report(done.error());
    return 0;
  }
  if (*backup) {
    auto summary = aloft::server::app::Backup(*config, backup_dest);
    if (!summary) return Report(summary.error());
    std::cout << *summary;
    return 0;
  }
  if (*repo_keys) {
    auto keys = aloft::server::app::OnlinePublicKeys(*config);
    if (!keys) return Report(keys.error());
    std::cout << *keys;
    return 0;
  }
  if (*devices) {
    auto list = aloft::server::app::ListDevices(*config, json);
    if (!list) return Report(list.error());
    std::cout << *list;
    return 0;
  }
  if (*serve) {
    sigset_t signals = BlockShutdownSignals();
    auto server = aloft::server::app::Aloftd::Start(*config);
    if (!server) return Report(server.error());
    std::cerr << "{\"level\":\"info\",\"event\":\"listening\",\"address\":\""
              << config->listen_address << "\",\"port\":" << (*server)->port() << "}\n";
    int signal = 0;
    sigwait(&signals, &signal);
    std::cerr << "{\"level\":\"info\",\"event\":\"shutting_down\",\"signal\":" << signal << "}\n";
    (*server)->Stop();
    return 0;
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aloftd: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "aloftd: internal error\n";
  }
  return 1;
}
