// The attack suite: every threat of docs/threat-model.md that a network, a stolen key or a
// compromised server can stage, staged against the real aloftd, aloftctl and aloft-agent on
// loopback (attack_lab.hpp). Each scenario asserts three things: the device keeps running its
// verified image, it rejected the attack for the right reason, and the rejection was reported
// (the agent's exit status and message, and where the device can reach aloftd, the report
// aloftd stored). The binary ends with `attacks staged: N, stopped: N`.
//
// Quick mode (make test): every scenario once. Soak (make soak): ALOFT_ATTACK_SOAK=1 with
// --gtest_repeat, and each run picks its tampered bytes, sizes and rates at random.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

#include "core/base/hex.hpp"
#include "core/base/time.hpp"
#include "core/crypto/hash.hpp"
#include "core/metadata/model.hpp"
#include "platform/posix/files.hpp"
#include "security/attack_lab.hpp"
#include "security/forgery.hpp"
#include "server/auth/token_service.hpp"
#include "testing/fake_clock.hpp"

namespace aloft::security {
namespace {

namespace fs = std::filesystem;
using Response = TestHttpServer::Response;
using Request = TestHttpServer::Request;

int g_staged = 0;
int g_stopped = 0;

bool Soak() { return std::getenv("ALOFT_ATTACK_SOAK") != nullptr; }

std::mt19937_64& Rng() {
  static std::mt19937_64 rng = [] {
    const auto seed = Soak() ? std::random_device{}() : 20261129u;
    std::cout << "attack suite seed: " << seed << "\n";
    return std::mt19937_64(seed);
  }();
  return rng;
}

std::size_t Pick(std::size_t lo, std::size_t hi) {
  return std::uniform_int_distribution<std::size_t>(lo, hi)(Rng());
}

// Prints the figure once all scenarios ran; fails the run when any attack got through.
class Figure : public ::testing::Environment {
 public:
  void TearDown() override {
    std::cout << "attacks staged: " << g_staged << ", stopped: " << g_stopped << "\n";
    EXPECT_GT(g_staged, 0);
    EXPECT_EQ(g_staged, g_stopped);
  }
};
[[maybe_unused]] ::testing::Environment* const kFigure =
    ::testing::AddGlobalTestEnvironment(new Figure);

bool Contains(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The version `meta` of a timestamp or snapshot lists for `file`; 0 when unreadable.
std::int64_t MetaVersion(ByteView envelope, const std::string& file) {
  auto signed_part = SignedPart(envelope);
  if (!signed_part) return 0;
  const Json* meta = signed_part->Find("meta");
  const Json* entry = meta != nullptr ? meta->Find(file) : nullptr;
  const Json* version = entry != nullptr ? entry->Find("version") : nullptr;
  return version != nullptr && version->IsInt() ? version->AsInt() : 0;
}

// What the device says when an artifact's bytes are not the signed ones.
constexpr const char* kHashMismatch = "sha256";

// Another image of the same length, compressed into an artifact of the release's exact
// length that decompresses cleanly: only the signed hashes can tell.
Bytes EvilArtifact(const Release& release) {
  std::string head =
      "aloft-attack-image version=6.6.6-" + std::to_string(Pick(0, 999)) + " health=ok\n";
  Bytes image(head.begin(), head.end());
  image.resize(release.image.size(), static_cast<std::uint8_t>(Pick(0, 255)));
  auto artifact = ForgeArtifact(image, static_cast<std::size_t>(release.length));
  EXPECT_TRUE(artifact) << artifact.error().ToString();
  return artifact ? *artifact : Bytes{};
}

Bytes Body(const Json& json) { return ToBytes(core::codec::DumpJson(json)); }

Response JsonResponse(int status, const Json& json) {
  Response r;
  r.status = status;
  r.body = Body(json);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

class AttackSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto started = std::chrono::steady_clock::now();
    auto lab = AttackLab::Create();
    ASSERT_TRUE(lab) << lab.error().ToString();
    lab_ = lab->release();
    std::cout << "fleet staged in "
              << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                  started)
                     .count()
              << " s: aloftd " << lab_->aloftd_url() << ", proxy " << lab_->proxy().BaseUrl()
              << "\n";
  }
  static void TearDownTestSuite() {
    delete lab_;
    lab_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(lab_, nullptr) << "the fleet could not be staged";
    ++g_staged;
    lab().proxy().Honest();
    victim_ = lab().victim();
    auto status = lab().DeviceStatus(victim_);
    ASSERT_TRUE(status) << status.error().ToString();
    baseline_ = std::move(*status);
  }

  // Attacks with stolen online keys leave the device trusting the attacker's (validly
  // signed) timestamp and snapshot versions until the keys are rotated, so they get a victim
  // of their own.
  void UseOwnVictim(const std::string& id) {
    auto device = lab().NewVictim(id);
    ASSERT_TRUE(device) << device.error().ToString();
    victim_ = *device;
    auto status = lab().DeviceStatus(victim_);
    ASSERT_TRUE(status) << status.error().ToString();
    baseline_ = std::move(*status);
  }
  void TearDown() override {
    if (lab_ == nullptr) return;
    lab().proxy().Honest();
    for (const std::string& id : deployments_) lab().Cancel(id);
    if (HasFailure()) {
      std::cout << "--- aloftd log (tail)\n" << lab().server_log() << "\n";
    } else {
      ++g_stopped;
    }
  }

  static AttackLab& lab() { return *lab_; }
  const Device& victim() const { return victim_; }

  std::string Deploy(const std::string& version, const std::string& device = "") {
    auto id = lab().Deploy(lab().release(version).name, device.empty() ? victim().id : device);
    EXPECT_TRUE(id) << id.error().ToString();
    if (!id) return "";
    deployments_.push_back(*id);
    return *id;
  }

  ProcessResult Check(const std::vector<std::string>& prefix = {}) {
    return lab().Agent(victim().config, {"check"}, prefix);
  }

  // The device runs what it ran before the attack: same verified image, same slot, no trial
  // pending, and the booted slot still holds the 2.0.0 bytes.
  void ExpectStillOnVerifiedImage() {
    auto status = lab().DeviceStatus(victim());
    ASSERT_TRUE(status) << status.error().ToString();
    for (const char* key : {"imageVersion", "imageSha256", "bootedSlot", "nextSlot", "trialBoot"}) {
      ASSERT_NE(status->Find(key), nullptr) << key;
      EXPECT_EQ(*status->Find(key), *baseline_.Find(key)) << key;
    }
    EXPECT_EQ(status->Find("trialPending")->AsBool(), false);
    const std::string slot = status->Find("bootedSlot")->AsString();
    auto bytes = platform::posix::ReadFile(victim().dir / ("slot-" + slot + ".img"), 64 << 20);
    ASSERT_TRUE(bytes);
    const Bytes& image = lab().release("2.0.0").image;
    ASSERT_GE(bytes->size(), image.size());
    EXPECT_TRUE(std::equal(image.begin(), image.end(), bytes->begin()))
        << "the booted slot no longer holds the verified 2.0.0 image";
  }

  // aloftd stored a report from the device in `state` ("failed" unless said otherwise; empty:
  // any) whose message contains `reason`.
  void ExpectServerHeard(const std::string& device, const std::string& reason,
                         const std::string& state_wanted = "failed") {
    auto reports = lab().ServerReports(device);
    ASSERT_TRUE(reports) << reports.error().ToString();
    std::string seen;
    for (const Json& r : *reports) {
      const std::string message = r.Find("message") ? r.Find("message")->AsString() : "";
      const std::string state = r.Find("state") ? r.Find("state")->AsString() : "";
      if ((state_wanted.empty() || state == state_wanted) &&
          Contains(Lower(message), Lower(reason))) {
        return;
      }
      seen += state + ": " + message + "\n";
    }
    ADD_FAILURE() << "aloftd has no " << state_wanted << " report from " << device << " saying '"
                  << reason << "'; it has:\n"
                  << seen;
  }

  // The agent's exit status and the reason it gave.
  static void ExpectRefusal(const ProcessResult& r, int exit_code, const std::string& reason) {
    EXPECT_EQ(r.exit_code, exit_code) << r.output;
    EXPECT_TRUE(Contains(Lower(r.output), Lower(reason)))
        << "expected the reason '" << reason << "' in:\n"
        << r.output;
  }

  // The device's currently trusted Director metadata (its local store).
  Bytes Trusted(const std::string& repo, const std::string& role) {
    auto bytes = platform::posix::ReadFile(
        victim().dir / "data" / "metadata" / repo / (role + ".json"), 16 << 20);
    EXPECT_TRUE(bytes) << bytes.error().ToString();
    return bytes ? *bytes : Bytes{};
  }

  // Makes the agent refresh the Director at its next check-in, whatever aloftd says.
  static void ForceDirectorRefresh(const Request& request, Response& response) {
    if (request.path != "/api/v1/device/updates" || response.status != 200) return;
    auto json = core::codec::ParseJson(ToString(response.body));
    if (!json) return;
    (*json)["updateAvailable"] = true;
    (*json)["directorTargetsVersion"] = (*json)["directorTargetsVersion"].AsInt() + 1000;
    response.body = Body(*json);
  }

  // The Director chain an attacker with the stolen Director keys serves the victim: one
  // target `path` with `length`/`sha256` and Director custom data for `hardware`.
  ForgedChain ForgeDirector(const std::string& path, std::int64_t length, const std::string& sha256,
                            const std::string& hardware) {
    auto keys = lab().StealOnlineKeys();
    EXPECT_TRUE(keys) << keys.error().ToString();
    auto token = lab().TokenOf(victim().id);
    EXPECT_TRUE(token.has_value());
    if (!keys || !token) return {};
    auto ts = lab().Get("/api/v1/director/timestamp.json", *token);
    EXPECT_TRUE(ts) << ts.error().ToString();
    if (!ts) return {};
    const std::int64_t snapshot_version = MetaVersion(*ts, "snapshot.json");
    auto sn = lab().Get("/api/v1/director/" + std::to_string(snapshot_version) + ".snapshot.json",
                        *token);
    EXPECT_TRUE(sn) << sn.error().ToString();
    if (!sn) return {};
    const std::int64_t targets_version = MetaVersion(*sn, "targets.json");
    auto targets =
        lab().Get("/api/v1/director/" + std::to_string(targets_version) + ".targets.json", *token);
    EXPECT_TRUE(targets) << targets.error().ToString();
    if (!targets) return {};
    auto signed_targets = SignedPart(*targets);
    EXPECT_TRUE(signed_targets) << signed_targets.error().ToString();
    if (!signed_targets) return {};
    Json target = Json::Object{
        {"length", length},
        {"hashes", Json::Object{{"sha256", sha256}}},
        {"custom",
         Json::Object{{"hardwareId", hardware},
                      {"deviceId", victim().id},
                      {"deploymentId", "stolen-key-" + std::to_string(Pick(1, 1 << 30))}}}};
    (*signed_targets)["targets"] = Json::Object{{path, target}};
    auto chain = ForgeChain(*ts, *sn, *signed_targets, keys->director_targets,
                            keys->director_snapshot, keys->director_timestamp, "/api/v1/director/");
    EXPECT_TRUE(chain) << chain.error().ToString();
    return chain ? *chain : ForgedChain{};
  }

  // Serves `chain` in aloftd's place and makes the agent look at it.
  void Serve(ForgedChain chain) {
    auto files = std::make_shared<std::map<std::string, Bytes>>(std::move(chain.files));
    lab().proxy().SetIntercept([files](const Request& r) -> std::optional<Response> {
      auto it = files->find(r.path);
      if (it == files->end()) return std::nullopt;
      Response response;
      response.body = it->second;
      return response;
    });
    lab().proxy().SetRewrite(&ForceDirectorRefresh);
  }

  static inline AttackLab* lab_ = nullptr;
  Device victim_;
  Json baseline_;
  std::vector<std::string> deployments_;
};

// --- Arbitrary software ------------------------------------------------------------------------

TEST_F(AttackSuite, ArtifactReplacedInTheBlobStore) {
  Deploy("3.0.0");
  const Release& r = lab().release("3.0.0");
  const fs::path blob = lab().data_dir() / "blobs" / "sha256" / r.sha256.substr(0, 2) /
                        r.sha256.substr(2, 2) / r.sha256;
  auto original = platform::posix::ReadFile(blob, 64 << 20);
  ASSERT_TRUE(original) << original.error().ToString();
  const Bytes evil = EvilArtifact(r);
  ASSERT_TRUE(platform::posix::AtomicWriteFile(blob, evil, 0640));
  ProcessResult check = Check();
  ASSERT_TRUE(platform::posix::AtomicWriteFile(blob, *original, 0640));
  ExpectRefusal(check, 4, kHashMismatch);
  ExpectStillOnVerifiedImage();
  ExpectServerHeard(victim().id, kHashMismatch);
}

TEST_F(AttackSuite, ArtifactSwappedByAManInTheMiddle) {
  Deploy("3.0.0");
  const Bytes evil = EvilArtifact(lab().release("3.0.0"));
  lab().proxy().SetRewrite([evil](const Request& r, Response& response) {
    if (r.path.starts_with("/api/v1/targets/") && response.status == 200) response.body = evil;
  });
  ProcessResult check = Check();
  ExpectRefusal(check, 4, kHashMismatch);
  ExpectStillOnVerifiedImage();
  ExpectServerHeard(victim().id, kHashMismatch);
}

// --- Rollback, freeze, mix-and-match -----------------------------------------------------------

TEST_F(AttackSuite, RollbackToAnOlderSignedDirectorTimestamp) {
  const Bytes old_timestamp = Trusted("director", "timestamp");
  // The Director moves on (an assignment the device then refuses for its counter).
  Deploy("1.0.0");
  ASSERT_EQ(Check().exit_code, 3);
  const Bytes current = Trusted("director", "timestamp");
  ASSERT_LT(*core::metadata::PeekVersionUntrusted(old_timestamp),
            *core::metadata::PeekVersionUntrusted(current));
  lab().proxy().SetIntercept([old_timestamp](const Request& r) -> std::optional<Response> {
    if (r.path != "/api/v1/director/timestamp.json") return std::nullopt;
    Response response;
    response.body = old_timestamp;  // validly signed, just older
    return response;
  });
  lab().proxy().SetRewrite(&ForceDirectorRefresh);
  ProcessResult check = Check();
  ExpectRefusal(check, 1, "is older than the trusted");
  EXPECT_EQ(Trusted("director", "timestamp"), current) << "the older timestamp was stored";
  ExpectStillOnVerifiedImage();
}

TEST_F(AttackSuite, FreezeWithAStaleTimestampPastItsExpiry) {
  ASSERT_TRUE(fs::exists("/usr/bin/faketime")) << "scripts/install-deps installs faketime";
  const Bytes stale = Trusted("director", "timestamp");
  const Bytes stale_snapshot = Trusted("director", "snapshot");
  const Bytes stale_targets = Trusted("director", "targets");
  // The device's clock is three days on; the attacker keeps serving the last timestamp it saw
  // (24 h lifetime) and answers everything else itself, as a rogue server would.
  lab().proxy().SetIntercept([=](const Request& r) -> std::optional<Response> {
    if (r.path == "/api/v1/device/auth") {
      return JsonResponse(200,
                          Json::Object{{"token", "rogue"}, {"expires", "2099-01-01T00:00:00Z"}});
    }
    if (r.path == "/api/v1/device/updates") {
      return JsonResponse(200, Json::Object{{"updateAvailable", true},
                                            {"directorTargetsVersion", std::int64_t{1} << 40}});
    }
    if (r.path == "/api/v1/device/inventory") {
      Response response;
      response.status = 204;
      return response;
    }
    if (r.path == "/api/v1/device/reports") {
      return JsonResponse(200, Json::Object{{"acceptedIds", Json::Array{}}});
    }
    // The whole chain the device saw last, every file validly signed.
    for (const auto& [suffix, bytes] : {std::pair{std::string("timestamp.json"), &stale},
                                        std::pair{std::string(".snapshot.json"), &stale_snapshot},
                                        std::pair{std::string(".targets.json"), &stale_targets}}) {
      if (r.path.starts_with("/api/v1/director/") && r.path.ends_with(suffix)) {
        Response response;
        response.body = *bytes;
        return response;
      }
    }
    Response none;
    none.status = 404;
    return none;
  });
  std::string future =
      FormatTimestamp(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) +
                      std::chrono::hours(72));
  future = future.substr(0, 10) + " " + future.substr(11, 8);
  // libfaketime is preloaded ahead of the sanitizer runtime in the ASan build; tell ASan so.
  std::string asan = std::getenv("ASAN_OPTIONS") != nullptr ? std::getenv("ASAN_OPTIONS") : "";
  if (!Contains(asan, "verify_asan_link_order")) {
    asan += std::string(asan.empty() ? "" : ":") + "verify_asan_link_order=0";
    ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
  }
  ProcessResult check = Check({"/usr/bin/faketime", future});
  ExpectRefusal(check, 1, "expired");
  EXPECT_EQ(Trusted("director", "timestamp"), stale);
  ExpectStillOnVerifiedImage();
}

TEST_F(AttackSuite, MixAndMatchOfDirectorMetadataVersions) {
  const Bytes old_targets = Trusted("director", "targets");
  const std::int64_t old_version = *core::metadata::PeekVersionUntrusted(old_targets);
  // A new assignment makes aloftd sign targets N+1; the attacker pairs its fresh timestamp
  // and snapshot with the older, validly signed targets N.
  Deploy("3.0.0");
  const std::regex targets_file(R"(/api/v1/director/(\d+)\.targets\.json)");
  lab().proxy().SetRewrite([&](const Request& r, Response& response) {
    std::smatch m;
    if (std::regex_match(r.path, m, targets_file) && std::stoll(m[1]) > old_version) {
      response.body = old_targets;
    }
  });
  ProcessResult check = Check();
  ExpectRefusal(check, 1, "director");
  EXPECT_TRUE(Contains(Lower(check.output), "snapshot") || Contains(Lower(check.output), "hash") ||
              Contains(Lower(check.output), "length"))
      << check.output;
  EXPECT_EQ(*core::metadata::PeekVersionUntrusted(Trusted("director", "targets")), old_version);
  ExpectStillOnVerifiedImage();
}

// --- Stolen keys -------------------------------------------------------------------------------

TEST_F(AttackSuite, CompromisedDirectorAssignsAnImageNobodyReleased) {
  UseOwnVictim("stolen-director-keys");
  Bytes evil(1000 + Pick(0, 1000), 0x66);
  Serve(ForgeDirector("os-backdoor.img.zst", static_cast<std::int64_t>(evil.size()),
                      core::crypto::Sha256Hex(evil), "demo-board"));
  ProcessResult check = Check();
  ExpectRefusal(check, 3, "never signed");
  ExpectStillOnVerifiedImage();
  ExpectServerHeard(victim().id, "never signed");
}

TEST_F(AttackSuite, CompromisedImageRepositoryOnlineKeysCannotIntroduceTargets) {
  UseOwnVictim("stolen-image-keys");
  Deploy("3.0.0");
  const Release& r = lab().release("3.0.0");
  auto keys = lab().StealOnlineKeys();
  ASSERT_TRUE(keys) << keys.error().ToString();
  auto token = lab().TokenOf(victim().id);
  ASSERT_TRUE(token.has_value());
  // The honest Director assigns 3.0.0; an attacker with the Image repository's snapshot and
  // timestamp keys re-signs its targets with 3.0.0 pointing at other bytes.
  auto ts = lab().Get("/api/v1/image/timestamp.json", *token);
  ASSERT_TRUE(ts) << ts.error().ToString();
  auto sn = lab().Get(
      "/api/v1/image/" + std::to_string(MetaVersion(*ts, "snapshot.json")) + ".snapshot.json",
      *token);
  ASSERT_TRUE(sn) << sn.error().ToString();
  auto targets = lab().Get(
      "/api/v1/image/" + std::to_string(MetaVersion(*sn, "targets.json")) + ".targets.json",
      *token);
  ASSERT_TRUE(targets) << targets.error().ToString();
  auto signed_targets = SignedPart(*targets);
  ASSERT_TRUE(signed_targets) << signed_targets.error().ToString();
  Json& entry = (*signed_targets)["targets"][r.name];
  entry["hashes"]["sha256"] = core::crypto::Sha256Hex(EvilArtifact(r));
  auto chain = ForgeChain(*ts, *sn, *signed_targets, keys->image_snapshot, keys->image_snapshot,
                          keys->image_timestamp, "/api/v1/image/");
  ASSERT_TRUE(chain) << chain.error().ToString();
  Serve(std::move(*chain));
  ProcessResult check = Check();
  // The poll fails (as for a bad Director); the device reports nothing through an attacker
  // who could drop reports anyway, and tries again at its next poll.
  ExpectRefusal(check, 1, "image repository: targets: targets has 0 valid signature(s)");
  ExpectStillOnVerifiedImage();
}

// A one-off attacker (or a stale cache) must not block a deployment for good: metadata that
// does not verify fails the poll, and the next honest poll installs the update.
TEST_F(AttackSuite, ImageMetadataTamperedInTransitIsRetriedNotBlocked) {
  UseOwnVictim("tampered-in-transit");
  Deploy("3.0.0");
  lab().proxy().SetRewrite([](const Request& r, Response& response) {
    if (r.path != "/api/v1/image/timestamp.json" || response.status != 200) return;
    auto json = core::codec::ParseJson(ToString(response.body));
    if (!json) return;
    (*json)["signed"]["expires"] = "2099-01-01T00:00:00Z";  // signed content changed
    response.body = Body(*json);
  });
  ProcessResult tampered = Check();
  ExpectRefusal(tampered, 1, "image repository: timestamp: ");
  ExpectStillOnVerifiedImage();
  lab().proxy().Honest();
  ProcessResult honest = Check();
  EXPECT_EQ(honest.exit_code, 75) << "the update was blocked by one tampered poll:\n"
                                  << honest.output;
}

TEST_F(AttackSuite, KnownVulnerableOldReleaseReOfferedWithValidSignatures) {
  Deploy("1.0.0");  // an operator's (or a compromised Director's) honest-looking choice
  ProcessResult check = Check();
  ExpectRefusal(check, 3, "security counter 1, below the installed 2");
  ExpectStillOnVerifiedImage();
  ExpectServerHeard(victim().id, "security counter");
}

TEST_F(AttackSuite, WrongHardwareIdFromAStolenDirectorKey) {
  UseOwnVictim("wrong-hardware");
  const Release& other = lab().release("9.9.9-other");  // signed and released, for other-board
  Serve(ForgeDirector(other.name, other.length, other.sha256, "demo-board"));
  ProcessResult check = Check();
  ExpectRefusal(check, 3, "not released for hardware 'demo-board'");
  ExpectStillOnVerifiedImage();
  ExpectServerHeard(victim().id, "not released for hardware");
}

// --- Endless data, slow retrieval --------------------------------------------------------------

TEST_F(AttackSuite, EndlessDirectorMetadata) {
  const std::size_t size = (std::size_t{20} << 20) + Pick(0, 1 << 20);
  lab().proxy().SetIntercept([size](const Request& r) -> std::optional<Response> {
    if (r.path != "/api/v1/director/timestamp.json") return std::nullopt;
    Response response;
    response.body = Bytes(size, '{');
    response.omit_content_length = true;  // no size announced: the agent must cut it off
    return response;
  });
  lab().proxy().SetRewrite(&ForceDirectorRefresh);
  ProcessResult check = Check();
  ExpectRefusal(check, 1, "more than 16384 bytes");
  ExpectStillOnVerifiedImage();
}

TEST_F(AttackSuite, EndlessArtifact) {
  Deploy("3.0.0");
  const std::size_t extra = (std::size_t{8} << 20) + Pick(0, 1 << 20);
  lab().proxy().SetRewrite([extra](const Request& r, Response& response) {
    if (!r.path.starts_with("/api/v1/targets/")) return;
    response.body.resize(response.body.size() + extra, 0x90);
    response.omit_content_length = true;
  });
  ProcessResult check = Check();
  const std::string cut = "more than " + std::to_string(lab().release("3.0.0").length) + " bytes";
  ExpectRefusal(check, 4, cut);
  ExpectStillOnVerifiedImage();
  ExpectServerHeard(victim().id, cut);
}

TEST_F(AttackSuite, SlowRetrievalByATricklingServer) {
  Deploy("3.0.0");
  auto config = lab().ConfigVariant(victim(), "slow", lab().proxy().BaseUrl(),
                                    "[limits]\ndownload_timeout_seconds = 3\n");
  ASSERT_TRUE(config) << config.error().ToString();
  // Fast enough to pass a minimum-rate check (~10 KiB/s), far too slow to ever finish.
  const auto delay = std::chrono::milliseconds(40 + Pick(0, 40));
  lab().proxy().SetRewrite([delay](const Request& r, Response& response) {
    if (!r.path.starts_with("/api/v1/targets/")) return;
    response.trickle_delay = delay;
    response.trickle_chunk = 512;
  });
  const auto started = std::chrono::steady_clock::now();
  ProcessResult check = lab().Agent(*config, {"check"});
  const auto took = std::chrono::steady_clock::now() - started;
  ExpectRefusal(check, 4, "not finished within 3 s");
  EXPECT_LT(took, std::chrono::seconds(30)) << "the trickle held the device";
  ExpectStillOnVerifiedImage();
  // A timeout is transient: reported as a failed attempt the device will retry.
  ExpectServerHeard(victim().id, "not finished within 3 s", "");
}

// --- Device identity ---------------------------------------------------------------------------

TEST_F(AttackSuite, ReplayedAuthenticationAndExpiredOrForgedTokens) {
  // A fresh sign-in for the proxy to capture.
  ProcessResult flushed = lab().Agent(victim().config, {"flush-reports"});
  ASSERT_EQ(flushed.exit_code, 0) << flushed.output;
  std::optional<Exchange> auth;
  for (const Exchange& e : lab().proxy().Exchanges()) {
    if (e.path == "/api/v1/device/auth" && e.status == 200) auth = e;
  }
  ASSERT_TRUE(auth.has_value());
  const std::string url = lab().aloftd_url();
  const std::vector<std::string> json = {"Content-Type: application/json"};

  auto replayed =
      Send("POST", url + "/api/v1/device/auth", lab().ca_file(), json, auth->request_body);
  ASSERT_TRUE(replayed) << replayed.error().ToString();
  EXPECT_EQ(replayed->status, 401) << ToString(replayed->body);

  auto key = platform::posix::ReadFile(lab().data_dir() / "secrets" / "token.key", 4096);
  ASSERT_TRUE(key) << key.error().ToString();
  std::string hex = ToString(*key);
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  // A token aloftd really issued two hours ago (same key, an old clock): expired now.
  testing::FakeClock then(
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) -
      std::chrono::hours(2));
  auto service =
      server::auth::TokenService::Create(*HexDecode(hex), then, std::chrono::seconds(900));
  ASSERT_TRUE(service) << service.error().ToString();
  auto expired = service->Issue("device", victim().id);
  ASSERT_TRUE(expired);
  auto late = Send("GET", url + "/api/v1/device/updates", lab().ca_file(),
                   {"Authorization: Bearer " + *expired});
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 401);
  EXPECT_TRUE(Contains(ToString(late->body), "token expired")) << ToString(late->body);

  auto token = lab().TokenOf(victim().id);
  ASSERT_TRUE(token.has_value());
  std::string forged = *token;
  forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
  auto bad = Send("GET", url + "/api/v1/device/updates", lab().ca_file(),
                  {"Authorization: Bearer " + forged});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_TRUE(Contains(ToString(bad->body), "invalid token")) << ToString(bad->body);
  ExpectStillOnVerifiedImage();
}

TEST_F(AttackSuite, DeviceACannotReadOrReportForDeviceB) {
  auto a = lab().NewDevice("dev-a");
  ASSERT_TRUE(a) << a.error().ToString();
  auto b = lab().NewDevice("dev-b");
  ASSERT_TRUE(b) << b.error().ToString();
  for (const Device* d : {&*a, &*b}) {
    ProcessResult r = lab().Agent(d->config, {"check"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  // B gets instructions: a deployment, assigned at B's next check-in.
  const std::string b_deployment = Deploy("3.0.0", "dev-b");
  auto b_token = lab().TokenOf("dev-b");
  auto a_token = lab().TokenOf("dev-a");
  ASSERT_TRUE(a_token && b_token);
  const std::string url = lab().aloftd_url();
  auto b_checkin = Send("GET", url + "/api/v1/device/updates", lab().ca_file(),
                        {"Authorization: Bearer " + *b_token});
  ASSERT_TRUE(b_checkin && b_checkin->status == 200);
  auto b_timestamp = lab().Get("/api/v1/director/timestamp.json", *b_token);
  ASSERT_TRUE(b_timestamp);

  // A asks for B's instructions every way a URL can say it; it only ever gets its own.
  for (const std::string& path : {std::string("/api/v1/director/timestamp.json?device=dev-b"),
                                  std::string("/api/v1/director/timestamp.json?deviceId=dev-b"),
                                  std::string("/api/v1/director/dev-b/timestamp.json"),
                                  std::string("/api/v1/director/..%2Fdev-b%2Ftimestamp.json")}) {
    auto answer = Send("GET", url + path, lab().ca_file(),
                       {"Authorization: Bearer " + *a_token, "X-Device-Id: dev-b"});
    ASSERT_TRUE(answer);
    EXPECT_NE(answer->body, *b_timestamp) << path << " served B's timestamp to A";
    EXPECT_FALSE(Contains(ToString(answer->body), "dev-b")) << path;
  }
  auto a_timestamp = Send("GET", url + "/api/v1/director/timestamp.json", lab().ca_file(),
                          {"Authorization: Bearer " + *a_token, "X-Device-Id: dev-b"});
  ASSERT_TRUE(a_timestamp && a_timestamp->status == 200);
  const std::int64_t sv = MetaVersion(a_timestamp->body, "snapshot.json");
  auto a_snapshot =
      lab().Get("/api/v1/director/" + std::to_string(sv) + ".snapshot.json", *a_token);
  ASSERT_TRUE(a_snapshot);
  const std::int64_t tv = MetaVersion(*a_snapshot, "targets.json");
  auto a_targets = lab().Get("/api/v1/director/" + std::to_string(tv) + ".targets.json", *a_token);
  ASSERT_TRUE(a_targets);
  EXPECT_FALSE(Contains(ToString(*a_targets), "dev-b")) << "A read B's assignment";
  EXPECT_FALSE(Contains(ToString(*a_targets), lab().release("3.0.0").name));

  // A reports for B's deployment: stored as A's, B's rollout does not move.
  auto before = lab().CtlJson({"deploy", "status", b_deployment});
  ASSERT_TRUE(before) << before.error().ToString();
  Json report = Json::Object{
      {"reports",
       Json::Array{Json::Object{{"id", "spoof-" + std::to_string(Pick(1, 1 << 30))},
                                {"deploymentId", b_deployment},
                                {"state", "failed"},
                                {"bytesDone", 0},
                                {"bytesTotal", 0},
                                {"message", "spoofed failure for dev-b"},
                                {"logTail", ""},
                                {"at", FormatTimestamp(std::chrono::floor<std::chrono::seconds>(
                                           std::chrono::system_clock::now()))}}}}};
  auto spoof =
      Send("POST", url + "/api/v1/device/reports", lab().ca_file(),
           {"Authorization: Bearer " + *a_token, "Content-Type: application/json"}, Body(report));
  ASSERT_TRUE(spoof);
  EXPECT_TRUE(spoof->status == 200 || spoof->status == 403 || spoof->status == 409)
      << spoof->status << " " << ToString(spoof->body);
  auto after = lab().CtlJson({"deploy", "status", b_deployment});
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_EQ(*after->Find("counts"), *before->Find("counts"))
      << "A's report moved B's deployment: " << core::codec::DumpJson(*after);
  auto b_reports = lab().ServerReports("dev-b");
  ASSERT_TRUE(b_reports);
  for (const Json& r : *b_reports) {
    EXPECT_FALSE(Contains(core::codec::DumpJson(r), "spoofed")) << "stored as B's report";
  }
  ExpectStillOnVerifiedImage();
}

// --- Transport ---------------------------------------------------------------------------------

TEST_F(AttackSuite, ServerCertificateFromAnUntrustedCa) {
  // A rogue aloftd with a certificate from its own CA, on the address the device is told.
  const fs::path rogue = lab().work() / "rogue";
  fs::create_directories(rogue / "tls");
  fs::permissions(rogue, fs::perms::owner_all, fs::perm_options::replace);
  auto port = FreePort();
  ASSERT_TRUE(port);
  const std::string rogue_url = "https://127.0.0.1:" + std::to_string(*port);
  const std::string config = "[server]\nlisten = \"127.0.0.1:" + std::to_string(*port) +
                             "\"\n[tls]\ncert_file = \"" + (rogue / "tls/server.crt").string() +
                             "\"\nkey_file = \"" + (rogue / "tls/server.key").string() +
                             "\"\n[storage]\ndata_dir = \"" + (rogue / "data").string() + "\"\n";
  ASSERT_TRUE(platform::posix::AtomicWriteFile(rogue / "aloftd.toml", AsBytes(config), 0600));
  const std::string aloftd = (testing::BinDir() / "aloftd").string();
  auto init =
      testing::RunProcess({aloftd, "-c", (rogue / "aloftd.toml").string(), "init", "--generate-tls",
                           "--admin-password-file", (rogue / "otp").string()});
  ASSERT_TRUE(init && init->exit_code == 0) << (init ? init->output : init.error().ToString());
  auto server = ChildProcess::Start({aloftd, "-c", (rogue / "aloftd.toml").string(), "serve"},
                                    rogue / "server.log");
  ASSERT_TRUE(server);
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    auto ready = Send("GET", rogue_url + "/readyz", rogue / "tls" / "ca.pem", {});
    up = ready && ready->status == 200;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(up) << "the rogue server did not come up";

  auto config_file = lab().ConfigVariant(victim(), "rogue", rogue_url, "");
  ASSERT_TRUE(config_file);
  ProcessResult check = lab().Agent(*config_file, {"check"});
  EXPECT_EQ(check.exit_code, 1) << check.output;
  EXPECT_TRUE(Contains(Lower(check.output), "certificate") || Contains(Lower(check.output), "ssl"))
      << check.output;
  auto log = platform::posix::ReadFile(rogue / "server.log", 16 << 20);
  ASSERT_TRUE(log);
  EXPECT_FALSE(Contains(ToString(*log), "/api/v1/device")) << "a device request reached the rogue";
  ExpectStillOnVerifiedImage();
}

}  // namespace
}  // namespace aloft::security
