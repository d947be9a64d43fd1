// aloft_fuzz_seeds CORPUS_ROOT: writes the generated seed inputs of the json, metadata_parse,
// metadata_verify, http and delta targets into CORPUS_ROOT/<target>/seed-*. Metadata is signed with
// the fixed keys of fixed_repo.hpp by RepoBuilder, so every seed verifies against the root the
// metadata_verify target trusts, and rerunning gives the same bytes (ed25519 is deterministic).
// The config targets are seeded from deploy/config by hand (docs/fuzzing.md).

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "core/io/writer.hpp"
#include "core/metadata/model.hpp"
#include "core/uptane/target_custom.hpp"
#include "fuzz/delta_source.hpp"
#include "fuzz/fixed_repo.hpp"
#include "testing/repo_builder.hpp"

namespace {

using aloft::Bytes;
using aloft::ToString;
using aloft::core::codec::Json;
namespace fs = std::filesystem;
namespace md = aloft::core::metadata;
namespace uptane = aloft::core::uptane;

constexpr std::string_view kSep = "\n--\n";

void Write(const fs::path& dir, const std::string& name, std::string_view bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / ("seed-" + name), std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::cerr << "cannot write " << (dir / name) << "\n";
    std::exit(1);
  }
}

// RepoBuilder with the fixed keys and the fixed root v1 in place of its random ones.
aloft::testing::RepoBuilder FixedBuilder() {
  using aloft::fuzz::FixedKey;
  aloft::testing::RepoBuilder repo(aloft::core::crypto::KeyType::kEd25519,
                                   aloft::fuzz::FixedRepoTime());
  repo.root.keys.clear();
  for (std::string_view role : {md::kRoot, md::kTimestamp, md::kSnapshot, md::kTargets}) {
    repo.SetRoleKeys(role, {FixedKey(role)});
  }
  repo.root_history = {aloft::fuzz::FixedTrustedRoot()};

  uptane::ImageCustom image;
  image.version = "2.0";
  image.hardware_ids = {"rpi4"};
  image.security_counter = 3;
  image.payload = uptane::PayloadInfo{"raw", "zstd", 1024, std::string(64, 'a')};
  image.chunks = uptane::ChunkInfo{4096, {std::string(64, 'c')}};
  repo.AddTarget("rpi4/os-2.0.img", aloft::ToBytes("os image 2.0"));
  repo.targets.at("targets").targets.at("rpi4/os-2.0.img").custom = uptane::ToJson(image);

  uptane::ImageCustom delta = image;
  delta.payload.reset();
  delta.chunks.reset();
  delta.delta =
      uptane::DeltaInfo{std::string(64, 'b'), 900, "rpi4/os-2.0.img", std::string(64, 'a'), 1024};
  const std::string delta_name = uptane::DeltaTargetName("rpi4/os-2.0.img", std::string(64, 'b'));
  repo.AddTarget(delta_name, aloft::ToBytes("patch bytes"));
  repo.targets.at("targets").targets.at(delta_name).custom = uptane::ToJson(delta);

  md::DelegatedRole role;
  role.name = "delegated";
  role.paths = std::vector<std::string>{"apps/*", "tools/?.bin"};
  repo.Delegate("targets", role, {FixedKey("delegated")});
  repo.AddTarget("apps/tool.bin", aloft::ToBytes("a tool"), "delegated");
  return repo;
}

std::string Role(const aloft::testing::RepoBuilder& repo, std::string_view role) {
  return ToString(repo.RoleBytes(role));
}

std::string Script(const std::vector<std::string>& steps) {
  std::string out;
  for (const auto& s : steps) {
    if (!out.empty()) out += kSep;
    out += s;
  }
  return out;
}

void MetadataSeeds(const fs::path& root) {
  const fs::path parse = root / "metadata_parse";
  const fs::path verify = root / "metadata_verify";
  const fs::path json = root / "json";

  auto repo = FixedBuilder();
  const std::string ts1 = Role(repo, "timestamp"), snap1 = Role(repo, "snapshot"),
                    tg1 = Role(repo, "targets"), del1 = Role(repo, "delegated");
  const std::string root1 = ToString(aloft::fuzz::FixedTrustedRoot());
  Write(verify, "chain-v1", Script({"T" + ts1, "S" + snap1, "G" + tg1, "D" + del1}));
  Write(verify, "chain-v1-cached", Script({"T" + ts1, "C" + snap1, "G" + tg1}));
  Write(verify, "out-of-order", Script({"S" + snap1, "G" + tg1, "T" + ts1, "D" + del1, "G" + tg1}));

  repo.PublishRoot();
  const std::string root2 = Role(repo, "root");
  Write(verify, "rotate-then-chain", Script({"R" + root2, "T" + ts1, "S" + snap1, "G" + tg1}));
  Write(verify, "root-after-timestamp", Script({"T" + ts1, "R" + root2}));

  repo.PublishTargetsChange("delegated");
  repo.PublishTargetsChange();
  const std::string ts3 = Role(repo, "timestamp"), snap3 = Role(repo, "snapshot"),
                    tg3 = Role(repo, "targets"), del3 = Role(repo, "delegated");
  Write(verify, "chain-v3", Script({"T" + ts1, "T" + ts3, "S" + snap3, "G" + tg3, "D" + del3}));
  Write(verify, "timestamp-rollback", Script({"T" + ts3, "T" + ts1, "S" + snap1}));
  Write(verify, "snapshot-mismatch", Script({"T" + ts3, "S" + snap1, "G" + tg1}));

  repo.meta_hashes = true;
  repo.PublishTargetsChange();
  const std::string ts4 = Role(repo, "timestamp"),
                    snap4 = ToString(repo.Files().at("metadata/snapshot.json"));
  Write(verify, "chain-hashes", Script({"T" + ts4, "S" + snap4, "G" + Role(repo, "targets")}));

  repo.timestamp.common.expires = aloft::fuzz::FixedRepoTime();
  repo.BumpTimestamp();
  Write(verify, "timestamp-expired", Script({"T" + Role(repo, "timestamp"), "S" + snap4}));

  // A succinct (hash-bin) delegation and Director-style custom members, for the parser.
  md::TargetsMetadata bins;
  bins.common = md::Common{"targets", std::string(md::kSpecVersion), 1,
                           aloft::fuzz::FixedRepoTime() + std::chrono::days(30)};
  md::Delegations d;
  const auto& key = aloft::fuzz::FixedKey("delegated");
  d.keys[key.KeyId()] = md::ToListedKey(key.Public());
  d.succinct = md::SuccinctRoles{md::RoleKeys{{key.KeyId()}, 1}, 4, "bin"};
  bins.delegations = d;
  md::TargetFile file;
  file.length = 12;
  file.hashes = {{"sha256", aloft::core::crypto::Sha256Hex(aloft::ToBytes("os image 2.0"))}};
  uptane::DirectorCustom director{"rpi4", "dev-a", "d1",
                                  uptane::DeltaRef{"rpi4/os-2.0.img.from-bbbb", file}};
  file.custom = uptane::ToJson(director);
  bins.targets["rpi4/os-2.0.img"] = file;
  auto signed_bins = md::SignMetadata(md::ToJson(bins), {aloft::fuzz::FixedKey("targets")});
  if (!signed_bins) std::exit(1);
  const std::string succinct = md::Serialize(*signed_bins);

  for (const auto& [name, bytes] :
       std::vector<std::pair<std::string, std::string>>{{"root-v1", root1},
                                                        {"root-v2", root2},
                                                        {"timestamp", ts3},
                                                        {"snapshot", snap3},
                                                        {"snapshot-hashes", snap4},
                                                        {"targets", tg3},
                                                        {"delegated", del3},
                                                        {"succinct-director", succinct}}) {
    Write(parse, name, bytes);
    Write(json, "metadata-" + name, bytes);
  }
}

void JsonSeeds(const fs::path& root) {
  const fs::path dir = root / "json";
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"scalars", R"([null,true,false,0,-0,9223372036854775807,-9223372036854775808,"",1])"},
      {"escapes", R"({"a\"b":"\\\/\b\f\n\r\t\u0000\u00e9\ud83d\ude00","é":"ü"})"},
      {"nested", R"({"a":{"b":[[{"c":[]}],{}]},"b":[1,[2,[3,[4]]]]})"},
      {"whitespace", " \t\r\n{ \"k\" : [ 1 , 2 ] }\n"},
      {"duplicate", R"({"a":1,"a":2})"},
      {"float", "[1.5e3]"},
      {"utf8", "[\"\xe2\x82\xac\xf0\x9f\x98\x80\"]"},
  };
  for (const auto& [name, text] : seeds) Write(dir, name, text);
}

void HttpSeeds(const fs::path& root) {
  const fs::path dir = root / "http";
  const std::string auth = "Authorization: Bearer alo_" + std::string(43, 'f') + "\r\n";
  auto get = [&](std::string_view path, bool authed) {
    return "GET " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (authed ? auth : "") +
           "\r\n";
  };
  auto with_body = [&](std::string_view method, std::string_view path, std::string_view body,
                       bool authed) {
    return std::string(method) + " " + std::string(path) +
           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
           (authed ? auth : "") + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           std::string(body);
  };
  const std::string kPublicKey =
      R"({"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"00"}})";
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"health", get("/healthz", false)},
      {"metrics", get("/metrics", false)},
      {"readyz", get("/readyz", false)},
      {"image-timestamp", get("/api/v1/image/timestamp.json", false)},
      {"image-root", get("/api/v1/image/1.root.json", false)},
      {"director", get("/api/v1/director/1.root.json", false)},
      {"target", get("/api/v1/targets/rpi4/os.img", false)},
      {"updates", get("/api/v1/device/updates", false)},
      {"online-keys", get("/api/v1/online-keys", true)},
      {"release", get("/api/v1/releases/rpi4%2Fos-2.0.img", true)},
      {"not-found", get("/nope/../x?a=%zz", false)},
      {"head", "HEAD /api/v1/releases HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"},
      {"options", "OPTIONS /api/v1/devices HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"pipelined", get("/api/v1/devices", true) + get("/api/v1/releases", true) +
                        get("/api/v1/deployments?state=active", true)},
      {"http10", "GET /healthz HTTP/1.0\r\n\r\n"},
      {"devices", get("/api/v1/devices?limit=5&status=accepted", true)},
      {"device", get("/api/v1/devices/dev-a", true)},
      {"audit", get("/api/v1/audit?limit=5", true)},
      {"audit-verify", get("/api/v1/audit/verify", true)},
      {"fleet", get("/api/v1/fleet/summary", true)},
      {"repo-status", get("/api/v1/repo/status", true)},
      {"users", get("/api/v1/users", true)},
      {"tokens", get("/api/v1/tokens", true)},
      {"unauth", get("/api/v1/users", false)},
      {"login",
       with_body("POST", "/api/v1/session", R"({"username":"admin","password":"x"})", false)},
      {"enroll", with_body("POST", "/api/v1/device/enroll",
                           R"({"device_id":"dev-x","hardware_id":"rpi4","public_key":)" +
                               kPublicKey + R"(,"enrollment_token":"t"})",
                           false)},
      {"device-auth",
       with_body(
           "POST", "/api/v1/device/auth",
           R"({"device_id":"dev-x","audience":"http://127.0.0.1","nonce":"n","signature":"00"})",
           false)},
      {"reports", with_body("POST", "/api/v1/device/reports", R"({"reports":[]})", false)},
      {"preauthorize",
       with_body("POST", "/api/v1/devices/preauthorize",
                 R"({"device_id":"dev-p","hardware_id":"rpi4","public_key":)" + kPublicKey + "}",
                 true)},
      {"enrollment-token",
       with_body("POST", "/api/v1/enrollment-tokens", R"({"uses":2,"hours":1})", true)},
      {"new-user",
       with_body("POST", "/api/v1/users", R"({"username":"bob","role":"viewer"})", true)},
      {"role", with_body("PUT", "/api/v1/users/bob/role", R"({"role":"operator"})", true)},
      {"new-token", with_body("POST", "/api/v1/tokens", R"({"name":"ci","role":"viewer"})", true)},
      {"deployment",
       with_body("POST", "/api/v1/deployments",
                 R"({"release":"rpi4/os-2.0.img","devices":["dev-a"],"phases":[{"percent":50}]})",
                 true)},
      {"pause", with_body("POST", "/api/v1/deployments/d1/pause", "{}", true)},
      {"put-image-root",
       with_body("PUT", "/api/v1/image-repo/root", R"({"signed":{},"signatures":[]})", true)},
      {"artifact", with_body("PUT", "/api/v1/artifacts/" + std::string(64, 'a'), "bytes", true)},
      {"chunked",
       "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"},
      {"expect",
       "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
       "Content-Length: 2\r\n\r\n{}"},
      {"too-large", "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"},
      {"bad-method", "BREW /coffee HTTP/1.1\r\n\r\n"},
      {"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"},
  };
  for (const auto& [name, text] : seeds) Write(dir, name, text);
}

// Patches from the delta target's source: mode byte 0 (apply) with a real patch, and mode byte
// 1 (create and apply) with a target.
void DeltaSeeds(const fs::path& root) {
  const fs::path dir = root / "delta";
  const Bytes& source = aloft::fuzz::DeltaSource();
  Bytes edited = source;
  for (std::size_t i = 100; i < 300; ++i) edited[i] = static_cast<std::uint8_t>(edited[i] + 1);
  Bytes longer = source;
  longer.insert(longer.begin() + 1000, source.begin(), source.begin() + 700);
  // Short pieces of the source in another order between new bytes: bsdiff's way leaves much,
  // so the block becomes an LZMA2 stream over the source (format version 3's method 3).
  Bytes shuffled;
  for (std::size_t piece = 0; piece < 40; ++piece) {
    const std::size_t from = (piece * 7919) % (source.size() - 24);
    shuffled.insert(shuffled.end(), source.begin() + static_cast<std::ptrdiff_t>(from),
                    source.begin() + static_cast<std::ptrdiff_t>(from + 24));
    for (std::size_t k = 0; k < 16; ++k) shuffled.push_back(static_cast<std::uint8_t>(piece * 31 + k * 17));
  }
  // The same as an x86-64 ELF file: through a branch filter (version 4's method 4).
  Bytes x86(64, 0);
  const std::uint8_t elf[] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  std::copy(std::begin(elf), std::end(elf), x86.begin());
  x86[18] = 62;  // EM_X86_64
  x86.insert(x86.end(), shuffled.begin(), shuffled.end());
  Bytes arm64 = x86;  // and as an AArch64 one (the ARM64 filter)
  arm64[18] = 183;    // EM_AARCH64
  const std::vector<std::pair<std::string, Bytes>> targets = {
      {"identical", source},
      {"edited", edited},
      {"longer", longer},
      {"shuffled", shuffled},
      {"shuffled-x86", x86},
      {"shuffled-arm64", arm64},
      {"empty", Bytes{}},
      {"short", aloft::ToBytes("a brand new image")}};
  for (const auto& [name, target] : targets) {
    aloft::core::io::BytesWriter patch(std::size_t{1} << 22);
    if (!aloft::core::delta::CreatePatch(source, target, patch, {.level = 3})) std::exit(1);
    std::string apply(1, '\0');
    apply += ToString(patch.bytes());
    Write(dir, "apply-" + name, apply);
  }
  std::string create(1, '\1');
  create += ToString(edited).substr(0, 2048);
  Write(dir, "create-edited", create);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: aloft_fuzz_seeds CORPUS_ROOT\n";
    return 2;
  }
  const fs::path root = argv[1];
  MetadataSeeds(root);
  JsonSeeds(root);
  HttpSeeds(root);
  DeltaSeeds(root);
  std::cout << "seeds written under " << root << "\n";
  return 0;
}
