// Core-library benchmarks. Every figure runs next to a named baseline in the same binary, and
// main() prints the ratios after Google Benchmark's table (see bench/README.md):
//
//   Verify/<type>                  PublicKey::Verify of a ~300-byte canonical message
//   Verify/<type>/raw-openssl        baseline: a hand-written EVP_DigestVerify, same key and bytes
//   Sign/<type>                    PrivateKey::Sign, for reference
//   FullRefresh/<type>             a client's first refresh of a 1,000-target repository with one
//                                  delegation: root v1 → timestamp → snapshot → targets →
//                                  FindTarget in the delegated role
//   FullRefresh/<type>/parse-only    baseline: ParseJson of the same five files (the floor of any
//                                  JSON-based client)
//   FullRefresh/<type>/verify-only   baseline: their five signature verifications alone
//   ParseJson/targets-1000, CanonicalJson/targets-1000: the codec on the big targets.json
//
// `aloft-bench-core --write-repo DIR [ed25519|ecdsa]` writes the benchmark repository to DIR
// instead (plus DIR/root.json and DIR/bench.json), for bench/tuf_refresh_baseline.py.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/openssl_baseline.hpp"
#include "core/base/hex.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"
#include "core/metadata/updater.hpp"
#include "testing/memory_fetcher.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/repo_builder.hpp"

namespace aloft::bench {
namespace {

using core::codec::CanonicalJson;
using core::codec::Json;
using core::codec::ParseJson;
using core::crypto::KeyType;
using core::crypto::PrivateKey;
using core::crypto::PublicKey;
using core::metadata::KeyRing;
using core::metadata::Untrusted;
using core::metadata::UpdaterConfig;

// The repository of the refresh benchmarks.
constexpr int kTopLevelTargets = 1000;
constexpr int kDelegatedTargets = 100;
constexpr std::string_view kDelegatedRole = "vendor-a";
// Listed by the delegated role only, so FindTarget has to fetch and verify that role.
constexpr std::string_view kDelegatedTarget = "vendor-a/pkg-0050.bin";
constexpr std::string_view kBaseUrl = "https://repo.bench/";

// Short runs by default (Google Benchmark's own default is 0.5 s per benchmark); a
// --benchmark_min_time on the command line wins.
constexpr std::string_view kDefaultMinTimeFlag = "--benchmark_min_time=0.2";

// ---------------------------------------------------------------------------------------------
// Fixtures. Setup failures are broken benchmarks, not conditions to handle.

[[noreturn]] void Die(std::string_view what, const Error& error) {
  std::cerr << "aloft-bench-core: " << what << ": " << error.ToString() << "\n";
  std::exit(1);
}

template <class T>
T Must(Result<T> result, std::string_view what) {
  if (!result) Die(what, result.error());
  return std::move(*result);
}

struct KeyCase {
  KeyType type;
  std::string_view name;
};
constexpr KeyCase kSignatureCases[] = {{KeyType::kEd25519, "ed25519"},
                                       {KeyType::kEcdsaP256, "ecdsa-p256"},
                                       {KeyType::kRsa, "rsa-3072"}};
constexpr KeyCase kRefreshCases[] = {{KeyType::kEd25519, "ed25519"},
                                     {KeyType::kEcdsaP256, "ecdsa-p256"}};

// What TUF signs for a small role, about 300 bytes: the canonical "signed" part of a snapshot
// that lists two targets roles with version, length and sha256.
std::string MakeMessage() {
  core::metadata::SnapshotMetadata snapshot;
  snapshot.common = {std::string(core::metadata::kSnapshot),
                     std::string(core::metadata::kSpecVersion), 4242,
                     testing::RepoBuilder::DefaultNow()};
  for (std::string_view role : {"targets", "vendor-a"}) {
    const Bytes content(4096, static_cast<std::uint8_t>(role.size()));
    core::metadata::MetaFile& meta = snapshot.meta[std::string(role) + ".json"];
    meta.version = 4242;
    meta.length = static_cast<std::int64_t>(content.size());
    meta.hashes = core::metadata::Hashes{{"sha256", core::crypto::Sha256Hex(content)}};
  }
  return CanonicalJson(core::metadata::ToJson(snapshot));
}

const std::string& Message() {
  static const std::string message = MakeMessage();
  return message;
}

// A key, its signature over Message() and the same public key loaded into raw OpenSSL.
struct SigningFixture {
  PrivateKey key;
  Bytes signature;
  std::unique_ptr<RawOpenSslVerifier> raw;
};

// Built on first use (a 3072-bit RSA key takes a while) and kept; benchmarks run one at a time.
const SigningFixture& SigningFixtureFor(KeyType type) {
  static std::map<KeyType, SigningFixture> fixtures;
  auto it = fixtures.find(type);
  if (it == fixtures.end()) {
    PrivateKey key = Must(PrivateKey::Generate(type), "generate key");
    Bytes signature = Must(key.Sign(AsBytes(Message())), "sign");
    auto raw = std::make_unique<RawOpenSslVerifier>(key.Public());
    SigningFixture fixture{std::move(key), std::move(signature), std::move(raw)};
    it = fixtures.emplace(type, std::move(fixture)).first;
  }
  return it->second;
}

std::string Padded(int value, std::size_t width) {
  std::string digits = std::to_string(value);
  return std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

// The served repository and what a fresh client reads from it.
struct BenchRepo {
  std::map<std::string, Bytes> files;  // RepoBuilder::Files(): path → bytes as served
  Bytes root_v1;                       // the client's trusted root, preinstalled
  Timestamp now;
  // Metadata URLs a fresh refresh plus the delegated lookup fetch, relative to kBaseUrl.
  std::vector<std::string> fetched;
  // The five metadata files the client parses and verifies: root v1, timestamp, snapshot,
  // targets, the delegated role.
  std::vector<Bytes> verified;
  Bytes targets;  // top-level targets.json, the big one
};

BenchRepo BuildRepo(KeyType type) {
  testing::RepoBuilder builder(type);
  builder.meta_hashes = true;  // timestamp and snapshot list length and sha256: more to check
  for (int i = 0; i < kTopLevelTargets; ++i) {
    std::string path = "images/board-" + Padded(i % 20, 2) + "/rootfs-1." + Padded(i, 4) + ".img";
    builder.AddTarget(path, ToBytes(path));
  }
  core::metadata::DelegatedRole role;
  role.name = std::string(kDelegatedRole);
  role.paths = std::vector<std::string>{std::string(kDelegatedRole) + "/*"};
  builder.Delegate(core::metadata::kTargets, std::move(role), {builder.NewKey()});
  for (int i = 0; i < kDelegatedTargets; ++i) {
    std::string path = std::string(kDelegatedRole) + "/pkg-" + Padded(i, 4) + ".bin";
    builder.AddTarget(path, ToBytes(path), kDelegatedRole);
  }

  BenchRepo repo;
  repo.files = builder.Files();
  repo.root_v1 = builder.RootBytes(1);
  repo.now = builder.now;
  const std::string snapshot_name =
      std::to_string(builder.snapshot.common.version) + ".snapshot.json";
  auto role_file = [&](std::string_view name) {
    return std::to_string(builder.targets.at(std::string(name)).common.version) + "." +
           std::string(name) + ".json";
  };
  repo.fetched = {"metadata/2.root.json", "metadata/timestamp.json", "metadata/" + snapshot_name,
                  "metadata/" + role_file(core::metadata::kTargets),
                  "metadata/" + role_file(kDelegatedRole)};
  repo.verified.push_back(repo.root_v1);
  for (std::size_t i = 1; i < repo.fetched.size(); ++i) {
    repo.verified.push_back(repo.files.at(repo.fetched[i]));
  }
  repo.targets = repo.files.at("metadata/" + role_file(core::metadata::kTargets));
  return repo;
}

const BenchRepo& RepoFor(KeyType type) {
  static std::map<KeyType, BenchRepo> repos;
  auto it = repos.find(type);
  if (it == repos.end()) it = repos.emplace(type, BuildRepo(type)).first;
  return it->second;
}

void Serve(const BenchRepo& repo, testing::MemoryFetcher& fetcher) {
  for (const auto& [path, bytes] : repo.files) fetcher.Set(std::string(kBaseUrl) + path, bytes);
}

UpdaterConfig BenchConfig() {
  UpdaterConfig config;
  config.metadata_url = std::string(kBaseUrl) + "metadata/";
  config.targets_url = std::string(kBaseUrl) + "targets/";
  return config;
}

// A device's first update: only root v1 trusted, everything else fetched and verified, then
// the lookup that walks into the delegation.
Result<core::metadata::TargetInfo> RefreshAndFind(const BenchRepo& repo,
                                                  const UpdaterConfig& config,
                                                  testing::MemoryFetcher& fetcher) {
  testing::MemoryMetadataStore store;
  if (Status s = store.Store(core::metadata::kRoot, repo.root_v1); !s) return Fail(s.error());
  core::metadata::Updater updater(config, fetcher, store, repo.now);
  if (Status s = updater.Refresh(); !s) return Fail(s.error());
  return updater.FindTarget(kDelegatedTarget);
}

// The signature checks of a refresh, one per file (each role has one key, threshold 1).
struct VerifyJob {
  std::string canonical;
  PublicKey key;
  Bytes signature;
};

template <class T>
void AddVerifyJob(const Untrusted<T>& metadata, const KeyRing& keys, std::vector<VerifyJob>& jobs) {
  for (const core::metadata::Signature& signature : metadata.signatures) {
    const core::metadata::ListedKey& listed = keys.at(signature.keyid);
    if (!listed.key) Die("verify-only setup", Error(Errc::kInternal, "unsupported key"));
    jobs.push_back({metadata.canonical, *listed.key, Must(HexDecode(signature.sig), "sig hex")});
  }
}

std::vector<VerifyJob> VerifyJobsFor(const BenchRepo& repo) {
  using namespace core::metadata;  // NOLINT(google-build-using-namespace): the Parse* family
  std::vector<VerifyJob> jobs;
  auto root = Must(ParseRoot(repo.verified[0]), "parse root");
  AddVerifyJob(root, root.content.keys, jobs);
  AddVerifyJob(Must(ParseTimestamp(repo.verified[1]), "parse timestamp"), root.content.keys, jobs);
  AddVerifyJob(Must(ParseSnapshot(repo.verified[2]), "parse snapshot"), root.content.keys, jobs);
  auto targets = Must(ParseTargets(repo.verified[3]), "parse targets");
  AddVerifyJob(targets, root.content.keys, jobs);
  AddVerifyJob(Must(ParseTargets(repo.verified[4]), "parse delegated role"),
               targets.content.delegations->keys, jobs);
  return jobs;
}

std::int64_t TotalBytes(benchmark::IterationCount iterations, std::size_t size) {
  return static_cast<std::int64_t>(iterations) * static_cast<std::int64_t>(size);
}

// ---------------------------------------------------------------------------------------------
// Benchmarks

void BM_Verify(benchmark::State& state, KeyType type) {
  const SigningFixture& fixture = SigningFixtureFor(type);
  const PublicKey& key = fixture.key.Public();
  const ByteView message = AsBytes(Message());
  for (auto _ : state) {
    if (!key.Verify(message, fixture.signature)) {
      state.SkipWithError("signature does not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(message.size()) + "-byte message");
}

void BM_VerifyRawOpenSsl(benchmark::State& state, KeyType type) {
  const SigningFixture& fixture = SigningFixtureFor(type);
  const ByteView message = AsBytes(Message());
  for (auto _ : state) {
    if (!fixture.raw->Verify(message, fixture.signature)) {
      state.SkipWithError("signature does not verify");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(message.size()) + "-byte message");
}

void BM_Sign(benchmark::State& state, KeyType type) {
  const SigningFixture& fixture = SigningFixtureFor(type);
  const ByteView message = AsBytes(Message());
  for (auto _ : state) {
    auto signature = fixture.key.Sign(message);
    if (!signature) {
      state.SkipWithError("signing failed");
      break;
    }
    benchmark::DoNotOptimize(signature);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FullRefresh(benchmark::State& state, KeyType type) {
  const BenchRepo& repo = RepoFor(type);
  const UpdaterConfig config = BenchConfig();
  testing::MemoryFetcher fetcher;
  Serve(repo, fetcher);
  // Once, untimed: the refresh must fetch exactly the files the baselines stand for.
  if (auto target = RefreshAndFind(repo, config, fetcher); !target) {
    state.SkipWithError(("refresh failed: " + target.error().ToString()).c_str());
    return;
  }
  std::vector<std::string> expected;
  for (const auto& path : repo.fetched) expected.push_back(std::string(kBaseUrl) + path);
  if (fetcher.requests() != expected) {
    state.SkipWithError("the refresh fetched other files than expected");
    return;
  }
  for (auto _ : state) {
    auto target = RefreshAndFind(repo, config, fetcher);
    if (!target) {
      state.SkipWithError(("refresh failed: " + target.error().ToString()).c_str());
      break;
    }
    benchmark::DoNotOptimize(target);
    fetcher.ClearRequests();  // the fetcher logs every URL; keep the log from growing
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RefreshParseOnly(benchmark::State& state, KeyType type) {
  const BenchRepo& repo = RepoFor(type);
  for (auto _ : state) {
    for (const Bytes& file : repo.verified) {
      auto json = ParseJson(AsChars(file));
      if (!json) {
        state.SkipWithError("parse failed");
        return;
      }
      benchmark::DoNotOptimize(json);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RefreshVerifyOnly(benchmark::State& state, KeyType type) {
  const std::vector<VerifyJob> jobs = VerifyJobsFor(RepoFor(type));
  if (jobs.size() != RepoFor(type).verified.size()) {
    state.SkipWithError("expected one signature per file");
    return;
  }
  for (auto _ : state) {
    for (const VerifyJob& job : jobs) {
      if (!job.key.Verify(AsBytes(job.canonical), job.signature)) {
        state.SkipWithError("signature does not verify");
        return;
      }
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseJson(benchmark::State& state) {
  const Bytes& file = RepoFor(KeyType::kEd25519).targets;
  for (auto _ : state) {
    auto json = ParseJson(AsChars(file));
    if (!json) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(json);
  }
  state.SetBytesProcessed(TotalBytes(state.iterations(), file.size()));
  state.SetLabel(std::to_string(file.size() / 1024) + " KiB");
}

void BM_CanonicalJson(benchmark::State& state) {
  const Json document = Must(ParseJson(AsChars(RepoFor(KeyType::kEd25519).targets)), "parse");
  std::size_t size = 0;
  for (auto _ : state) {
    std::string canonical = CanonicalJson(document);
    size = canonical.size();
    benchmark::DoNotOptimize(canonical);
  }
  state.SetBytesProcessed(TotalBytes(state.iterations(), size));
  state.SetLabel(std::to_string(size / 1024) + " KiB");
}

void RegisterBenchmarks() {
  using benchmark::kMicrosecond;
  using benchmark::kMillisecond;
  for (const KeyCase& c : kSignatureCases) {
    const std::string name = "Verify/" + std::string(c.name);
    benchmark::RegisterBenchmark(name.c_str(), BM_Verify, c.type)->Unit(kMicrosecond);
    benchmark::RegisterBenchmark((name + "/raw-openssl").c_str(), BM_VerifyRawOpenSsl, c.type)
        ->Unit(kMicrosecond);
  }
  for (const KeyCase& c : kSignatureCases) {
    benchmark::RegisterBenchmark(("Sign/" + std::string(c.name)).c_str(), BM_Sign, c.type)
        ->Unit(kMicrosecond);
  }
  for (const KeyCase& c : kRefreshCases) {
    const std::string name = "FullRefresh/" + std::string(c.name);
    benchmark::RegisterBenchmark(name.c_str(), BM_FullRefresh, c.type)->Unit(kMillisecond);
    benchmark::RegisterBenchmark((name + "/parse-only").c_str(), BM_RefreshParseOnly, c.type)
        ->Unit(kMillisecond);
    benchmark::RegisterBenchmark((name + "/verify-only").c_str(), BM_RefreshVerifyOnly, c.type)
        ->Unit(kMillisecond);
  }
  benchmark::RegisterBenchmark("ParseJson/targets-1000", BM_ParseJson)->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("CanonicalJson/targets-1000", BM_CanonicalJson)->Unit(kMicrosecond);
}

// ---------------------------------------------------------------------------------------------
// Reporting

// Google Benchmark's console table, plus each benchmark's CPU time per iteration for the
// ratios: the median over --benchmark_repetitions when there are several, else the mean.
class RecordingReporter final : public benchmark::ConsoleReporter {
 public:
  explicit RecordingReporter(OutputOptions options) : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) {
        failed_ = true;
        continue;
      }
      if (run.iterations == 0) continue;
      const double per_iteration = run.cpu_accumulated_time / static_cast<double>(run.iterations);
      if (run.run_type == Run::RT_Iteration) {
        Totals& totals = means_[run.run_name.str()];
        totals.cpu_seconds += run.cpu_accumulated_time;
        totals.iterations += run.iterations;
      } else if (run.aggregate_name == "median") {
        medians_[run.run_name.str()] = per_iteration;
      }
    }
  }

  // CPU seconds per iteration; nullopt if the benchmark did not run.
  std::optional<double> CpuSeconds(const std::string& name) const {
    if (auto it = medians_.find(name); it != medians_.end()) return it->second;
    auto it = means_.find(name);
    if (it == means_.end() || it->second.iterations == 0) return std::nullopt;
    return it->second.cpu_seconds / static_cast<double>(it->second.iterations);
  }
  bool failed() const { return failed_; }

 private:
  struct Totals {
    double cpu_seconds = 0;
    benchmark::IterationCount iterations = 0;
  };
  std::map<std::string, Totals> means_;
  std::map<std::string, double> medians_;
  bool failed_ = false;
};

std::string Fixed(double value, int decimals) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << value;
  return out.str();
}

void PrintRatios(const RecordingReporter& results, std::ostream& out) {
  out << "\nRatios (CPU time per operation)\n";
  for (const KeyCase& c : kSignatureCases) {
    const std::string name = "Verify/" + std::string(c.name);
    auto ours = results.CpuSeconds(name);
    auto raw = results.CpuSeconds(name + "/raw-openssl");
    if (!ours || !raw) continue;
    out << "  verify " << c.name << ": ours " << Fixed(*ours / *raw, 2) << "x raw OpenSSL ("
        << Fixed(1 / *ours, 0) << " vs " << Fixed(1 / *raw, 0) << " verifications/s)\n";
  }
  for (const KeyCase& c : kRefreshCases) {
    const std::string name = "FullRefresh/" + std::string(c.name);
    auto refresh = results.CpuSeconds(name);
    if (!refresh) continue;
    auto parse = results.CpuSeconds(name + "/parse-only");
    auto verify = results.CpuSeconds(name + "/verify-only");
    out << "  full refresh " << c.name << ": " << Fixed(*refresh * 1e3, 2) << " ms CPU";
    if (parse) {
      out << "; parse-only floor " << Fixed(*parse * 1e3, 2) << " ms (refresh "
          << Fixed(*refresh / *parse, 1) << "x)";
    }
    if (verify) {
      out << "; verify-only " << Fixed(*verify * 1e3, 2) << " ms ("
          << Fixed(100 * *verify / *refresh, 0) << "% of refresh)";
    }
    if (parse && verify) {
      out << "; the rest " << Fixed((*refresh - *parse - *verify) * 1e3, 2)
          << " ms (typed parsing, canonical re-encoding, hashes, copies, frees)";
    }
    out << "\n";
  }
}

// ---------------------------------------------------------------------------------------------
// --write-repo

void WriteFile(const std::filesystem::path& path, ByteView bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(AsChars(bytes).data(), static_cast<std::streamsize>(bytes.size()));
  if (!out.flush()) Die("write " + path.string(), Error(Errc::kIo, "write failed"));
}

// Writes every served file under `dir`, the trusted root as dir/root.json and what the Python
// baseline needs to repeat the refresh as dir/bench.json.
int WriteRepo(const std::filesystem::path& dir, std::string_view key_type) {
  KeyType type = KeyType::kEd25519;
  if (key_type == "ecdsa") {
    type = KeyType::kEcdsaP256;
  } else if (key_type != "ed25519") {
    std::cerr << "aloft-bench-core: --write-repo takes ed25519 or ecdsa, not '" << key_type
              << "'\n";
    return 2;
  }
  const BenchRepo repo = BuildRepo(type);
  for (const auto& [path, bytes] : repo.files) WriteFile(dir / path, bytes);
  WriteFile(dir / "root.json", repo.root_v1);
  Json info = Json::Object{{"key_type", Json(key_type)},
                           {"reference_time", Json(FormatTimestamp(repo.now))},
                           {"target", Json(kDelegatedTarget)},
                           {"metadata_files", Json(static_cast<int>(repo.verified.size()))}};
  WriteFile(dir / "bench.json", AsBytes(core::codec::DumpJson(info, /*pretty=*/true)));
  std::cout << "wrote " << repo.files.size() + 2 << " files to " << dir.string() << "\n";
  return 0;
}

int Main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (!args.empty() && args[0] == "--write-repo") {
    if (args.size() < 2 || args.size() > 3) {
      std::cerr << "usage: aloft-bench-core --write-repo DIR [ed25519|ecdsa]\n";
      return 2;
    }
    return WriteRepo(std::filesystem::path(args[1]), args.size() == 3 ? args[2] : "ed25519");
  }

  std::vector<char*> bench_args(argv, argv + argc);
  std::string min_time(kDefaultMinTimeFlag);
  bool has_min_time = false;
  for (std::string_view arg : args) has_min_time |= arg.starts_with("--benchmark_min_time");
  if (!has_min_time) bench_args.insert(bench_args.begin() + 1, min_time.data());
  int bench_argc = static_cast<int>(bench_args.size());
  benchmark::Initialize(&bench_argc, bench_args.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, bench_args.data())) return 2;

  RegisterBenchmarks();
  RecordingReporter reporter(isatty(STDOUT_FILENO) != 0 ? RecordingReporter::OO_Color
                                                        : RecordingReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  PrintRatios(reporter, std::cout);
  return reporter.failed() ? 1 : 0;
}

}  // namespace
}  // namespace aloft::bench

int main(int argc, char** argv) {
  try {
    return aloft::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aloft-bench-core: " << e.what() << "\n";
    return 1;
  }
}
