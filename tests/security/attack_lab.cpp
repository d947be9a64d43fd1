#include "security/attack_lab.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <thread>

#include "core/base/hex.hpp"
#include "platform/posix/files.hpp"

namespace aloft::security {
namespace {

namespace fs = std::filesystem;
using core::codec::ParseJson;

constexpr std::size_t kImageBytes = 256 * 1024;

Status WriteText(const fs::path& path, const std::string& text, mode_t mode = 0600) {
  return platform::posix::AtomicWriteFile(path, AsBytes(text), mode);
}

std::string RandomHex(std::size_t bytes) {
  std::random_device rd;
  Bytes b(bytes);
  for (auto& x : b) x = static_cast<std::uint8_t>(rd());
  return HexEncode(b);
}

Bytes MakeImage(const std::string& version) {
  std::string head = "aloft-attack-image version=" + version + " health=ok\n";
  Bytes image(head.begin(), head.end());
  std::mt19937_64 rng(std::hash<std::string>{}(version));
  while (image.size() < kImageBytes) image.push_back(static_cast<std::uint8_t>(rng()));
  return image;
}

Error ProcessError(const std::string& what, const ProcessResult& r) {
  return Error(Errc::kInternal, what + " exited " + std::to_string(r.exit_code) + ": " + r.output);
}

struct CurlBody {
  Bytes body;
};
std::size_t Collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* b = static_cast<CurlBody*>(user);
  b->body.insert(b->body.end(), reinterpret_cast<const std::uint8_t*>(data),
                 reinterpret_cast<const std::uint8_t*>(data) + size * count);
  return size * count;
}

}  // namespace

Result<Answer> Send(const std::string& method, const std::string& url, const fs::path& ca_file,
                    const std::vector<std::string>& headers, ByteView body) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Fail(Errc::kInternal, "curl_easy_init");
  CurlBody received;
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(body.data()));
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode code = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (code != CURLE_OK) {
    return Fail(Errc::kUnavailable, url + ": " + curl_easy_strerror(code));
  }
  return Answer{status, std::move(received.body)};
}

Result<std::uint16_t> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Fail(Errc::kIo, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return Fail(Errc::kIo, "bind");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

Result<std::unique_ptr<AttackLab>> AttackLab::Create() {
  // Before any thread exists: the proxy's thread and this one both make easy handles.
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    return Fail(Errc::kInternal, "curl_global_init failed");
  }
  auto work = testing::TempDir::Create();
  if (!work) return Fail(std::move(work).error());
  auto proxy = MitmProxy::Start();
  if (!proxy) return Fail(std::move(proxy).error());
  std::unique_ptr<AttackLab> lab(new AttackLab(std::move(*work), std::move(*proxy)));
  if (Status s = lab->StartServer(); !s) return Fail(s.error().WithContext("aloftd"));
  if (Status s = lab->Ceremony(); !s) return Fail(s.error().WithContext("key ceremony"));
  if (Status s = lab->MakeReleases(); !s) return Fail(s.error().WithContext("releases"));
  if (Status s = lab->InstallOnVictim(); !s) return Fail(s.error().WithContext("victim"));
  return lab;
}

AttackLab::~AttackLab() {
  proxy_.reset();
  aloftd_.reset();
}

std::string AttackLab::server_log() const {
  auto bytes = platform::posix::ReadFile(work() / "server.log", 64 << 20);
  if (!bytes) return "";
  std::string text = ToString(*bytes);
  return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
}

Status AttackLab::StartServer() {
  auto port = FreePort();
  if (!port) return Fail(port.error());
  aloftd_port_ = *port;
  fs::create_directories(work() / "tls");
  fs::create_directories(work() / "operator");
  fs::permissions(work() / "operator", fs::perms::owner_all, fs::perm_options::replace);
  // Devices reach aloftd only through the proxy: its URL is the one they sign as audience.
  const std::string config = "[server]\nlisten = \"127.0.0.1:" + std::to_string(*port) +
                             "\"\npublic_url = \"" + proxy_->BaseUrl() +
                             "\"\naccess_log = false\n"
                             "[tls]\ncert_file = \"" +
                             (work() / "tls/server.crt").string() + "\"\nkey_file = \"" +
                             (work() / "tls/server.key").string() + "\"\n[storage]\ndata_dir = \"" +
                             data_dir().string() +
                             "\"\n[limits]\nper_ip_requests_per_second = 10000\n"
                             "per_ip_burst = 10000\nper_device_requests_per_second = 10000\n"
                             "per_device_burst = 10000\n";
  if (Status s = WriteText(work() / "aloftd.toml", config); !s) return s;
  const std::string aloftd = (testing::BinDir() / "aloftd").string();
  auto init = testing::RunProcess({aloftd, "-c", (work() / "aloftd.toml").string(), "init",
                                   "--generate-tls", "--admin-password-file",
                                   (work() / "operator/admin-one-time-password").string()});
  if (!init) return Fail(init.error());
  if (init->exit_code != 0) return Fail(ProcessError("aloftd init", *init));
  auto child = ChildProcess::Start({aloftd, "-c", (work() / "aloftd.toml").string(), "serve"},
                                   work() / "server.log");
  if (!child) return Fail(child.error());
  aloftd_ = std::move(*child);
  proxy_->SetUpstream(aloftd_url(), ca_file());
  for (int i = 0; i < 300; ++i) {
    auto ready = Send("GET", aloftd_url() + "/readyz", ca_file(), {});
    if (ready && ready->status == 200) return Ok();
    if (!aloftd_->Running()) return Fail(Errc::kUnavailable, "aloftd exited: " + server_log());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Fail(Errc::kTimeout, "aloftd did not become ready: " + server_log());
}

ProcessResult AttackLab::Ctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {(testing::BinDir() / "aloftctl").string(), "--repo",
                                   (work() / "operator/repo").string(), "--passphrase-file",
                                   (work() / "operator/passphrase").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = testing::RunProcess(argv, std::chrono::seconds(120));
  return r ? *r : ProcessResult{-1, 0, r.error().message()};
}

Result<Json> AttackLab::CtlJson(const std::vector<std::string>& args) const {
  std::vector<std::string> with = {"--json"};
  with.insert(with.end(), args.begin(), args.end());
  ProcessResult r = Ctl(with);
  if (r.exit_code != 0) return Fail(ProcessError("aloftctl " + args.front(), r));
  // Progress or notes may precede the document on stderr (merged here): parse from the first brace.
  const std::size_t start = r.output.find('{');
  if (start == std::string::npos) return Fail(Errc::kInvalidArgument, "no JSON: " + r.output);
  return ParseJson(r.output.substr(start));
}

Status AttackLab::Ceremony() {
  // aloftctl reads these, as an operator's shell would set them.
  ::setenv("ALOFT_SERVER", aloftd_url().c_str(), 1);
  ::setenv("ALOFT_CA", ca_file().c_str(), 1);
  ::setenv("ALOFT_CREDENTIALS", (work() / "operator/credentials.json").c_str(), 1);
  auto otp = platform::posix::ReadFile(work() / "operator/admin-one-time-password", 4096);
  if (!otp) return Fail(otp.error());
  std::string password = ToString(*otp);
  while (!password.empty() && (password.back() == '\n' || password.back() == ' '))
    password.pop_back();
  ::setenv("ALOFT_PASSWORD", password.c_str(), 1);
  ::setenv("ALOFT_NEW_PASSWORD", ("Attack-" + RandomHex(12)).c_str(), 1);
  ProcessResult login = Ctl({"login", "--username", "admin"});
  ::unsetenv("ALOFT_PASSWORD");
  ::unsetenv("ALOFT_NEW_PASSWORD");
  if (login.exit_code != 0) return Fail(ProcessError("login", login));
  if (Status s = WriteText(work() / "operator/passphrase", RandomHex(24) + "\n"); !s) return s;
  const std::string online = (work() / "operator/online-keys.json").string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"online-keys", "--output", online},
        {"keys", "init", "--root-keys", "1", "--root-threshold", "1", "--targets-keys", "1",
         "--targets-threshold", "1", "--online-keys", online},
        {"repo", "upload-root"},
        {"repo", "director-root", "--output", (work() / "operator/director-root.json").string()}}) {
    ProcessResult r = Ctl(args);
    if (r.exit_code != 0) return Fail(ProcessError("aloftctl " + args[0] + " " + args[1], r));
  }
  auto token = CtlJson({"enroll-token", "create", "--uses", "50", "--valid-hours", "2"});
  if (!token) return Fail(token.error());
  auto t = core::codec::GetString(*token, "token");
  if (!t) return Fail(t.error());
  enroll_token_ = *t;
  return Ok();
}

Status AttackLab::MakeReleases() {
  fs::create_directories(work() / "images");
  struct Spec {
    std::string version;
    std::int64_t counter;
    std::string hardware;
  };
  // 1.0.0 is the known-vulnerable old release (counter 1); "other" is for other hardware.
  const Spec specs[] = {{"1.0.0", 1, "demo-board"},
                        {"2.0.0", 2, "demo-board"},
                        {"3.0.0", 2, "demo-board"},
                        {"9.9.9-other", 2, "other-board"}};
  for (const Spec& spec : specs) {
    Release r;
    r.version = spec.version;
    r.security_counter = spec.counter;
    r.name = "os-" + spec.version + ".img.zst";
    r.image = MakeImage(spec.version);
    const fs::path file = work() / "images" / ("os-" + spec.version + ".img");
    if (Status s = platform::posix::AtomicWriteFile(file, r.image); !s) return s;
    ProcessResult c =
        Ctl({"release", "create", file.string(), "--name", r.name, "--version", spec.version,
             "--hardware", spec.hardware, "--security-counter", std::to_string(spec.counter)});
    if (c.exit_code != 0) return Fail(ProcessError("release create " + spec.version, c));
    releases_[spec.version] = std::move(r);
  }
  fs::path key;
  for (const auto& e : fs::directory_iterator(work() / "operator/repo/keys")) {
    if (e.path().filename().string().starts_with("targets-")) key = e.path();
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"release", "sign", "--key", key.string()},
        {"release", "upload"}}) {
    ProcessResult r = Ctl(args);
    if (r.exit_code != 0) return Fail(ProcessError("aloftctl release " + args[1], r));
  }
  // Lengths and hashes as the offline-signed targets list them.
  std::int64_t newest = 0;
  fs::path targets;
  for (const auto& e : fs::directory_iterator(work() / "operator/repo/metadata")) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(".targets.json")) continue;
    const std::int64_t v = std::strtoll(name.c_str(), nullptr, 10);
    if (v > newest) newest = v, targets = e.path();
  }
  if (targets.empty()) return Fail(Errc::kNotFound, "no signed targets in the operator repo");
  auto bytes = platform::posix::ReadFile(targets, 16 << 20);
  if (!bytes) return Fail(bytes.error());
  auto json = ParseJson(ToString(*bytes));
  if (!json) return Fail(json.error());
  const Json* list = json->Find("signed") ? json->Find("signed")->Find("targets") : nullptr;
  if (list == nullptr) return Fail(Errc::kCorrupt, "targets without a target list");
  for (auto& [version, r] : releases_) {
    const Json* t = list->Find(r.name);
    if (t == nullptr) return Fail(Errc::kNotFound, r.name + " is not in the signed targets");
    r.length = t->Find("length")->AsInt();
    r.sha256 = t->Find("hashes")->Find("sha256")->AsString();
  }
  return Ok();
}

Result<fs::path> AttackLab::ConfigVariant(const Device& device, const std::string& name,
                                          const std::string& server_url,
                                          const std::string& extra) const {
  const fs::path& d = device.dir;
  std::string text = "server_url = \"" + server_url + "\"\n" +
                     (server_url.starts_with("http://") ? "allow_insecure_loopback = true\n" : "") +
                     "ca_file = \"" + ca_file().string() + "\"\ndevice_id = \"" + device.id +
                     "\"\nhardware_id = \"demo-board\"\ndata_dir = \"" + (d / "data").string() +
                     "\"\nenrollment_token = \"" + enroll_token_ +
                     "\"\npoll_interval_seconds = 10\ndirector_root = \"" +
                     (work() / "operator/director-root.json").string() + "\"\nimage_root = \"" +
                     (work() / "operator/repo/metadata/1.root.json").string() + "\"\n" + extra +
                     "\n[slots.a]\ndevice = \"" + (d / "slot-a.img").string() +
                     "\"\nkind = \"file\"\n[slots.b]\ndevice = \"" + (d / "slot-b.img").string() +
                     "\"\nkind = \"file\"\n[bootloader]\nkind = \"simulated\"\nenv = \"" +
                     (d / "bootloader.json").string() +
                     "\"\n[download]\nretries = 1\nkeep_partial = false\n" +
                     "retry_initial_seconds = 1\nretry_max_seconds = 1\n";
  const fs::path path = d / (name + ".toml");
  if (Status s = WriteText(path, text); !s) return Fail(s.error());
  return path;
}

Result<Device> AttackLab::NewDevice(const std::string& id, const std::string& extra) {
  Device device{id, work() / ("dev-" + id), {}};
  fs::create_directories(device.dir);
  fs::permissions(device.dir, fs::perms::owner_all, fs::perm_options::replace);
  if (Status s =
          platform::posix::AtomicWriteFile(device.dir / "slot-a.img", releases_.at("1.0.0").image);
      !s) {
    return Fail(s.error());
  }
  if (Status s = platform::posix::AtomicWriteFile(device.dir / "slot-b.img", Bytes{}); !s) {
    return Fail(s.error());
  }
  auto config = ConfigVariant(device, "agent", proxy_->BaseUrl(), extra);
  if (!config) return Fail(config.error());
  device.config = *config;
  ProcessResult enroll = Agent(device.config, {"enroll"});
  if (enroll.exit_code != 0) return Fail(ProcessError("enroll " + id, enroll));
  ProcessResult accept = Ctl({"device", "accept", id});
  if (accept.exit_code != 0) return Fail(ProcessError("accept " + id, accept));
  return device;
}

ProcessResult AttackLab::Agent(const fs::path& config, const std::vector<std::string>& args,
                               const std::vector<std::string>& prefix) const {
  std::vector<std::string> argv = prefix;
  argv.push_back((testing::BinDir() / "aloft-agent").string());
  argv.push_back("-c");
  argv.push_back(config.string());
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = testing::RunProcess(argv, std::chrono::seconds(120));
  return r ? *r : ProcessResult{-1, 0, r.error().message()};
}

Result<Json> AttackLab::DeviceStatus(const Device& device) const {
  ProcessResult r = Agent(device.config, {"status", "--json"});
  if (r.exit_code != 0) return Fail(ProcessError("status", r));
  const std::size_t start = r.output.find('{');
  if (start == std::string::npos) return Fail(Errc::kInvalidArgument, "no JSON: " + r.output);
  return ParseJson(r.output.substr(start, r.output.rfind('}') - start + 1));
}

Result<Json::Array> AttackLab::ServerReports(const std::string& device_id) const {
  auto device = CtlJson({"device", "show", device_id});
  if (!device) return Fail(device.error());
  const Json* reports = device->Find("reports");
  if (reports == nullptr || !reports->IsArray()) return Json::Array{};
  return reports->AsArray();
}

Result<std::string> AttackLab::Deploy(const std::string& release,
                                      const std::string& device_id) const {
  auto created = CtlJson({"deploy", "create", release, "--to-device", device_id});
  if (!created) return Fail(created.error());
  return core::codec::GetString(*created, "id");
}

void AttackLab::Cancel(const std::string& deployment_id) const {
  if (!deployment_id.empty()) (void)Ctl({"deploy", "cancel", deployment_id});
}

Result<Device> AttackLab::NewVictim(const std::string& id) {
  auto victim = NewDevice(id);
  if (!victim) return Fail(victim.error());
  auto deployment = Deploy(releases_.at("2.0.0").name, victim->id);
  if (!deployment) return Fail(deployment.error());
  ProcessResult install = Agent(victim->config, {"check"});
  if (install.exit_code != 75) return Fail(ProcessError("install 2.0.0", install));
  ProcessResult reboot = Agent(victim->config, {"simulate-reboot"});
  if (reboot.exit_code != 0) return Fail(ProcessError("simulate-reboot", reboot));
  ProcessResult commit = Agent(victim->config, {"check"});
  if (commit.exit_code != 0) return Fail(ProcessError("commit 2.0.0", commit));
  auto status = DeviceStatus(*victim);
  if (!status) return Fail(status.error());
  if (status->Find("imageVersion") == nullptr ||
      status->Find("imageVersion")->AsString() != "2.0.0") {
    return Fail(Errc::kInternal, id + " is not on 2.0.0: " + core::codec::DumpJson(*status));
  }
  return victim;
}

Status AttackLab::InstallOnVictim() {
  auto victim = NewVictim("victim");
  if (!victim) return Fail(victim.error());
  victim_ = *victim;
  return Ok();
}

Result<server::repo::OnlineKeys> AttackLab::StealOnlineKeys() const {
  auto kek = platform::posix::ReadFile(data_dir() / "kek", 4096);
  if (!kek) return Fail(kek.error());
  std::string text = ToString(*kek);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return server::repo::OnlineKeys::LoadOrCreate(data_dir() / "secrets", text);
}

std::optional<std::string> AttackLab::TokenOf(const std::string& device_id) const {
  std::optional<std::string> token;
  for (const Exchange& e : proxy_->Exchanges()) {
    if (e.path != "/api/v1/device/auth" || e.status != 200) continue;
    auto request = ParseJson(ToString(e.request_body));
    auto response = ParseJson(ToString(e.response_body));
    if (!request || !response) continue;
    auto id = core::codec::GetString(*request, "deviceId");
    auto t = core::codec::GetString(*response, "token");
    if (id && t && *id == device_id) token = *t;
  }
  return token;
}

Result<Bytes> AttackLab::Get(const std::string& path, const std::string& token) const {
  auto answer = Send("GET", aloftd_url() + path, ca_file(), {"Authorization: Bearer " + token});
  if (!answer) return Fail(answer.error());
  if (answer->status != 200) {
    return Fail(Errc::kUnavailable, path + ": HTTP " + std::to_string(answer->status));
  }
  return std::move(answer->body);
}

}  // namespace aloft::security
