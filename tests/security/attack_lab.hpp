#pragma once

// The staged fleet the attack suite runs against: the real aloftd (TLS, its own CA), an
// operator who did the offline key ceremony with the real aloftctl and released images, and
// real aloft-agent devices (file slots, simulated bootloader) whose server URL is the
// attacker's proxy (mitm_proxy.hpp) in front of aloftd.
//
// Built once per test binary (aloftd start, Argon2 logins and key generation are the slow
// part); each scenario then stages one attack and asserts how it was stopped.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/codec/json.hpp"
#include "security/child_process.hpp"
#include "security/mitm_proxy.hpp"
#include "server/repo/online_keys.hpp"
#include "testing/process.hpp"
#include "testing/temp_dir.hpp"

namespace aloft::security {

using core::codec::Json;
using testing::ProcessResult;

// A released image as the Image repository's offline-signed targets list it.
struct Release {
  std::string name;  // target path, e.g. "os-3.0.0.img"
  std::string version;
  std::int64_t security_counter = 0;
  Bytes image;         // what ends up in the slot
  std::string sha256;  // of the artifact served at /api/v1/targets/<sha256>.<name>
  std::int64_t length = 0;
};

struct Device {
  std::string id;
  std::filesystem::path dir;
  std::filesystem::path config;  // agent.toml, server_url = the proxy
};

class AttackLab {
 public:
  // Everything above, ready: victim device on release 2.0.0 (security counter 2), verified
  // and committed through a real update.
  static Result<std::unique_ptr<AttackLab>> Create();
  ~AttackLab();

  MitmProxy& proxy() { return *proxy_; }
  const std::filesystem::path& work() const { return work_.path(); }
  std::string aloftd_url() const { return "https://127.0.0.1:" + std::to_string(aloftd_port_); }
  std::filesystem::path ca_file() const { return work() / "tls" / "ca.pem"; }
  std::filesystem::path data_dir() const { return work() / "server"; }
  std::string server_log() const;

  // aloftctl with the operator's credentials and repository; `json` adds --json.
  ProcessResult Ctl(const std::vector<std::string>& args) const;
  Result<Json> CtlJson(const std::vector<std::string>& args) const;

  // A new device enrolled with the fleet token and accepted by the operator, factory image
  // 1.0.0 in slot a. `extra` is appended to its agent.toml.
  Result<Device> NewDevice(const std::string& id, const std::string& extra = "");
  // A new device that then installed release 2.0.0 (security counter 2) through a real
  // update: deployment, download, trial boot, health check, commit.
  Result<Device> NewVictim(const std::string& id);
  // Another agent.toml for `device` (same identity and state), with `server_url` and `extra`.
  Result<std::filesystem::path> ConfigVariant(const Device& device, const std::string& name,
                                              const std::string& server_url,
                                              const std::string& extra) const;
  // aloft-agent -c <config> <args...>, optionally under a prefix (faketime ...).
  ProcessResult Agent(const std::filesystem::path& config, const std::vector<std::string>& args,
                      const std::vector<std::string>& prefix = {}) const;
  // `status --json` of the device.
  Result<Json> DeviceStatus(const Device& device) const;
  // The device's recent reports as aloftd stored them (newest first).
  Result<Json::Array> ServerReports(const std::string& device_id) const;

  // A deployment of `release` to exactly `device_id`; its id. Cancel ends it (idempotent).
  Result<std::string> Deploy(const std::string& release, const std::string& device_id) const;
  void Cancel(const std::string& deployment_id) const;

  const Release& release(const std::string& version) const { return releases_.at(version); }
  const Device& victim() const { return victim_; }
  // aloftd's online keys, as an attacker who stole the secrets directory and the KEK has them.
  Result<server::repo::OnlineKeys> StealOnlineKeys() const;
  // The token aloftd issued most recently to `device_id` (seen by the proxy).
  std::optional<std::string> TokenOf(const std::string& device_id) const;
  // GET `path` (e.g. "/api/v1/director/timestamp.json") from aloftd directly.
  Result<Bytes> Get(const std::string& path, const std::string& token) const;

 private:
  AttackLab(testing::TempDir work, std::unique_ptr<MitmProxy> proxy)
      : work_(std::move(work)), proxy_(std::move(proxy)) {}
  Status StartServer();
  Status Ceremony();
  Status MakeReleases();
  Status InstallOnVictim();

  testing::TempDir work_;
  std::unique_ptr<MitmProxy> proxy_;
  std::unique_ptr<ChildProcess> aloftd_;
  std::uint16_t aloftd_port_ = 0;
  std::string enroll_token_;
  std::map<std::string, Release> releases_;
  Device victim_;
};

// An HTTPS request straight to a server (not through the proxy): status and body.
struct Answer {
  long status = 0;
  Bytes body;
};
Result<Answer> Send(const std::string& method, const std::string& url,
                    const std::filesystem::path& ca_file, const std::vector<std::string>& headers,
                    ByteView body = {});

// A free TCP port on 127.0.0.1.
Result<std::uint16_t> FreePort();

}  // namespace aloft::security
