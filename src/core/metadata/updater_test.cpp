// The client workflow against an in-memory repository: request sequences, persistence after
// each verified role, and the attacks TUF names (rollback, freeze, mix-and-match, endless
// data, fast-forward recovery).

#include "core/metadata/updater.hpp"

#include "core/crypto/hash.hpp"

#include <gtest/gtest.h>

#include <set>

#include "testing/memory_fetcher.hpp"
#include "testing/memory_metadata_store.hpp"
#include "testing/repo_builder.hpp"

namespace aloft::core::metadata {
namespace {

using crypto::PrivateKey;
using testing::RepoBuilder;

constexpr const char* kBase = "https://repo.test/";

class UpdaterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Publish();
    ASSERT_TRUE(store.Store(kRoot, repo.RootBytes(1)));
  }
  // Serves the repository's current files (and only those).
  void Publish() {
    for (const auto& url : published_) fetcher.Remove(url);
    published_.clear();
    for (auto& [path, bytes] : repo.Files()) {
      fetcher.Set(kBase + path, bytes);
      published_.push_back(kBase + path);
    }
    fetcher.ClearRequests();
  }
  Updater MakeUpdater(UpdaterConfig config = {}) {
    config.metadata_url = std::string(kBase) + "metadata";
    config.targets_url = std::string(kBase) + "targets/";
    return Updater(config, fetcher, store, repo.now);
  }
  Status Refresh() { return MakeUpdater().Refresh(); }
  // Request paths relative to the base.
  std::vector<std::string> Requests() {
    std::vector<std::string> out;
    for (const auto& url : fetcher.requests()) out.push_back(url.substr(std::string(kBase).size()));
    fetcher.ClearRequests();
    return out;
  }
  std::int64_t StoredVersion(std::string_view role) {
    auto bytes = store.Load(role);
    if (!bytes || !*bytes) return 0;
    return *PeekVersionUntrusted(**bytes);
  }

  RepoBuilder repo;
  testing::MemoryFetcher fetcher;
  testing::MemoryMetadataStore store;

 private:
  std::vector<std::string> published_;
};

using Paths = std::vector<std::string>;

TEST_F(UpdaterTest, FreshRefreshFetchesEachRoleOnceAndPersists) {
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/timestamp.json",
                               "metadata/1.snapshot.json", "metadata/1.targets.json"}));
  for (auto role : {kRoot, kTimestamp, kSnapshot, kTargets}) EXPECT_EQ(StoredVersion(role), 1);
}

TEST_F(UpdaterTest, UnchangedRepositoryReusesStoredMetadata) {
  ASSERT_TRUE(Refresh());
  Requests();
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/timestamp.json"}));
}

TEST_F(UpdaterTest, StoredBytesAreExactlyTheServedBytes) {
  Bytes ts = repo.Files().at("metadata/timestamp.json");
  ts.push_back(' ');
  fetcher.Set(std::string(kBase) + "metadata/timestamp.json", ts);
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(**store.Load(kTimestamp), ts);
}

TEST_F(UpdaterTest, NonConsistentSnapshotUsesPlainNames) {
  repo.root.consistent_snapshot = false;
  repo.PublishRoot();
  Publish();
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/3.root.json",
                               "metadata/timestamp.json", "metadata/snapshot.json",
                               "metadata/targets.json"}));
}

TEST_F(UpdaterTest, FollowsRootChainAndPersistsEachVersion) {
  for (int i = 0; i < 3; ++i) {
    std::vector<PrivateKey> old_keys = repo.signers.at("root");
    repo.SetRoleKeys(kRoot, {repo.NewKey()});
    repo.PublishRoot(old_keys);
  }
  Publish();
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(StoredVersion(kRoot), 4);
  EXPECT_EQ(Requests().front(), "metadata/2.root.json");
}

TEST_F(UpdaterTest, BadIntermediateRootKeepsTheLastGoodOne) {
  repo.PublishRoot();                 // v2, fine
  repo.SetRoleKeys(kRoot, {repo.NewKey()});
  repo.PublishRoot();                 // v3 not signed by v2's keys
  Publish();
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(s.error().message().find("3.root.json"), std::string::npos) << s.error().message();
  EXPECT_EQ(StoredVersion(kRoot), 2);
  EXPECT_EQ(StoredVersion(kTimestamp), 0);
}

TEST_F(UpdaterTest, RootChainIsCapped) {
  for (int i = 0; i < 5; ++i) repo.PublishRoot();
  Publish();
  UpdaterConfig config;
  config.max_root_rotations = 3;
  ASSERT_TRUE(MakeUpdater(config).Refresh());
  EXPECT_EQ(StoredVersion(kRoot), 4);
}

TEST_F(UpdaterTest, ExpiredFinalRootIsPersistedButRefreshFails) {
  repo.root.common.expires = repo.now - std::chrono::hours(1);
  repo.PublishRoot();
  Publish();
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kExpired);
  EXPECT_EQ(StoredVersion(kRoot), 2);
  EXPECT_EQ(Requests(), (Paths{"metadata/2.root.json", "metadata/3.root.json"}));
}

TEST_F(UpdaterTest, InvalidLocalRootFailsBeforeAnyRequest) {
  Bytes root = repo.RootBytes(1);
  root[root.size() / 2] ^= 0x01;
  ASSERT_TRUE(store.Store(kRoot, root));
  EXPECT_FALSE(Refresh());
  EXPECT_TRUE(Requests().empty());
}

TEST_F(UpdaterTest, MissingLocalRootIsAnError) {
  ASSERT_TRUE(store.Remove(kRoot));
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kNotFound);
}

TEST_F(UpdaterTest, TimestampRollbackAcrossRunsIsRejected) {
  repo.BumpTimestamp();
  repo.BumpTimestamp();
  Publish();
  ASSERT_TRUE(Refresh());
  repo.timestamp.common.version = 2;
  Publish();
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kRollback);
  EXPECT_EQ(StoredVersion(kTimestamp), 3);
}

TEST_F(UpdaterTest, FreezeAttackWithStaleTimestampFails) {
  ASSERT_TRUE(Refresh());
  // The attacker replays the same (valid) timestamp after it has expired.
  Timestamp later = repo.timestamp.common.expires + std::chrono::seconds(1);
  Updater updater(UpdaterConfig{std::string(kBase) + "metadata", std::string(kBase) + "targets"},
                  fetcher, store, later);
  auto s = updater.Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kExpired);
}

TEST_F(UpdaterTest, ExpiredNewTimestampIsNotPersisted) {
  ASSERT_TRUE(Refresh());
  repo.timestamp.common.expires = repo.now - std::chrono::seconds(1);
  repo.BumpTimestamp();
  Publish();
  EXPECT_FALSE(Refresh());
  EXPECT_EQ(StoredVersion(kTimestamp), 1);
}

TEST_F(UpdaterTest, MixAndMatchSnapshotRejected) {
  ASSERT_TRUE(Refresh());
  // The timestamp names snapshot 2, but the server hands out snapshot 1 under that name.
  Bytes old_snapshot = repo.Files().at("metadata/1.snapshot.json");
  repo.PublishTargetsChange();
  Publish();
  fetcher.Set(std::string(kBase) + "metadata/2.snapshot.json", old_snapshot);
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("does not match the timestamp"), std::string::npos)
      << s.error().message();
  EXPECT_EQ(StoredVersion(kTimestamp), 2);
  EXPECT_EQ(StoredVersion(kSnapshot), 1);
}

TEST_F(UpdaterTest, MissingNewSnapshotKeepsOldOne) {
  ASSERT_TRUE(Refresh());
  repo.PublishTargetsChange();
  Publish();
  fetcher.Remove(std::string(kBase) + "metadata/2.snapshot.json");
  EXPECT_FALSE(Refresh());
  EXPECT_EQ(StoredVersion(kTimestamp), 2);
  EXPECT_EQ(StoredVersion(kSnapshot), 1);
  EXPECT_EQ(StoredVersion(kTargets), 1);
}

TEST_F(UpdaterTest, EndlessTimestampIsCut) {
  fetcher.Set(std::string(kBase) + "metadata/timestamp.json", Bytes(64 * 1024, ' '));
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kTooLarge);
}

TEST_F(UpdaterTest, SnapshotCapIsTheLengthTheTimestampSigned) {
  repo.meta_hashes = true;
  Publish();
  Bytes snap = repo.Files().at("metadata/1.snapshot.json");
  snap.insert(snap.end(), 100, ' ');
  fetcher.Set(std::string(kBase) + "metadata/1.snapshot.json", snap);
  auto s = Refresh();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kTooLarge);
}

TEST_F(UpdaterTest, FastForwardRecoveryAfterTimestampKeyRotation) {
  // An attacker with the timestamp key pushed version 1000; the repository rotates the key
  // and starts again from a low version.
  repo.timestamp.common.version = 1000;
  Publish();
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(StoredVersion(kTimestamp), 1000);
  repo.SetRoleKeys(kTimestamp, {repo.NewKey()});
  repo.PublishRoot();
  repo.timestamp.common.version = 2;
  Publish();
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(StoredVersion(kTimestamp), 2);
}

TEST_F(UpdaterTest, FastForwardRecoveryAfterSnapshotKeyRotation) {
  repo.snapshot.common.version = 500;
  repo.BumpTimestamp();
  Publish();
  ASSERT_TRUE(Refresh());
  repo.SetRoleKeys(kSnapshot, {repo.NewKey()});
  repo.PublishRoot();
  repo.snapshot.common.version = 2;
  repo.timestamp.snapshot_meta.version = 2;
  repo.timestamp.common.version += 1;
  Publish();
  ASSERT_TRUE(Refresh());
  EXPECT_EQ(StoredVersion(kSnapshot), 2);
}

TEST_F(UpdaterTest, DownloadsAndVerifiesTargetByHashPrefixedName) {
  repo.AddTarget("dir/app.bin", ToBytes("payload"));
  repo.PublishTargetsChange();
  Publish();
  Updater updater = MakeUpdater();
  auto info = updater.FindTarget("dir/app.bin");
  ASSERT_TRUE(info) << info.error().ToString();
  Requests();
  io::BytesWriter sink(1 << 20);
  ASSERT_TRUE(updater.DownloadTarget(*info, sink));
  EXPECT_EQ(ToString(sink.bytes()), "payload");
  std::string hash = info->file.hashes.at("sha256");
  EXPECT_EQ(Requests(), (Paths{"targets/dir/" + hash + ".app.bin"}));
}

TEST_F(UpdaterTest, TamperedTargetIsRejected) {
  repo.AddTarget("app.bin", ToBytes("payload"));
  repo.PublishTargetsChange();
  Publish();
  Updater updater = MakeUpdater();
  auto info = updater.FindTarget("app.bin");
  ASSERT_TRUE(info);
  std::string url = std::string(kBase) + "targets/" + info->file.hashes.at("sha256") + ".app.bin";
  fetcher.Set(url, ToBytes("pAyload"));
  io::BytesWriter sink(1 << 20);
  auto s = updater.DownloadTarget(*info, sink);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kVerificationFailed);
  fetcher.Set(url, ToBytes("payload and more"));
  io::BytesWriter sink2(1 << 20);
  EXPECT_EQ(updater.DownloadTarget(*info, sink2).error().code(), Errc::kTooLarge);
  fetcher.Set(url, ToBytes("pay"));
  io::BytesWriter sink3(1 << 20);
  EXPECT_EQ(updater.DownloadTarget(*info, sink3).error().code(), Errc::kVerificationFailed);
}

TEST_F(UpdaterTest, UnknownTargetIsNotFound) {
  auto info = MakeUpdater().FindTarget("nope");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code(), Errc::kNotFound);
}

// Delegation search ---------------------------------------------------------------------

class DelegationSearchTest : public UpdaterTest {
 protected:
  DelegatedRole Role(std::string name, std::vector<std::string> paths, bool terminating = false) {
    DelegatedRole r;
    r.name = std::move(name);
    r.paths = std::move(paths);
    r.terminating = terminating;
    return r;
  }
  void Add(std::string_view delegator, DelegatedRole role) {
    repo.Delegate(delegator, std::move(role), {repo.NewKey()});
  }
  // Roles fetched during a lookup, in order.
  std::vector<std::string> Visited(std::string_view target) {
    repo.BumpSnapshot();
    repo.BumpTimestamp();
    Publish();
    Updater updater = MakeUpdater();
    EXPECT_TRUE(updater.Refresh());
    Requests();
    last_ = updater.FindTarget(target);
    std::vector<std::string> roles;
    for (const auto& r : Requests()) {
      std::string name = r.substr(std::string("metadata/1.").size());
      roles.push_back(name.substr(0, name.size() - 5));
    }
    return roles;
  }
  Result<TargetInfo> last_ = Fail(Errc::kInternal, "not run");
};

TEST_F(DelegationSearchTest, PreOrderDepthFirst) {
  Add("targets", Role("a", {"*"}));
  Add("targets", Role("b", {"*"}));
  Add("a", Role("a1", {"*"}));
  repo.AddTarget("file", ToBytes("x"), "b");
  EXPECT_EQ(Visited("file"), (Paths{"a", "a1", "b"}));
  ASSERT_TRUE(last_);
}

TEST_F(DelegationSearchTest, TerminatingRoleStopsTheSearch) {
  Add("targets", Role("a", {"*"}, /*terminating=*/true));
  Add("targets", Role("b", {"*"}));
  repo.AddTarget("file", ToBytes("x"), "b");
  EXPECT_EQ(Visited("file"), (Paths{"a"}));
  EXPECT_EQ(last_.error().code(), Errc::kNotFound);
}

TEST_F(DelegationSearchTest, PathPatternsSelectRoles) {
  Add("targets", Role("bins", {"bin/*"}));
  Add("targets", Role("libs", {"lib/*.so"}));
  repo.AddTarget("lib/x.so", ToBytes("x"), "libs");
  EXPECT_EQ(Visited("lib/x.so"), (Paths{"libs"}));
  ASSERT_TRUE(last_);
}

TEST_F(DelegationSearchTest, CyclesAreVisitedOnce) {
  Add("targets", Role("a", {"*"}));
  Add("a", Role("b", {"*"}));
  // b delegates back to a (with a's keys), making a cycle.
  DelegatedRole back = Role("a", {"*"});
  repo.targets.at("b").delegations.emplace();
  repo.targets.at("b").delegations->keys = repo.targets.at("targets").delegations->keys;
  back.keys = repo.targets.at("targets").delegations->roles[0].keys;
  repo.targets.at("b").delegations->roles.push_back(back);
  EXPECT_EQ(Visited("missing"), (Paths{"a", "b"}));
  EXPECT_EQ(last_.error().code(), Errc::kNotFound);
}

TEST_F(DelegationSearchTest, VisitsAtMostMaxDelegationsRoles) {
  std::string parent = "targets";
  for (int i = 0; i < 40; ++i) {
    std::string name = "r" + std::to_string(i);
    Add(parent, Role(name, {"*"}));
    parent = name;
  }
  EXPECT_EQ(Visited("missing").size(), 31u);  // targets itself is the 32nd
}

TEST_F(DelegationSearchTest, HashPrefixDelegation) {
  DelegatedRole r;
  r.name = "bin-x";
  std::string digest = crypto::Sha256Hex(AsBytes("file"));
  r.path_hash_prefixes = std::vector<std::string>{digest.substr(0, 2)};
  Add("targets", r);
  DelegatedRole other;
  other.name = "bin-y";
  other.path_hash_prefixes = std::vector<std::string>{digest[0] == 'f' ? "0" : "f"};
  Add("targets", other);
  repo.AddTarget("file", ToBytes("x"), "bin-x");
  EXPECT_EQ(Visited("file"), (Paths{"bin-x"}));
  ASSERT_TRUE(last_);
}

TEST_F(DelegationSearchTest, UnusualRoleNamesAreEscapedInUrlsAndStore) {
  Add("targets", Role("../evil", {"*"}));
  Add("targets", Role("?", {"*"}));
  repo.AddTarget("file", ToBytes("x"), "?");
  EXPECT_EQ(Visited("file"), (Paths{"..%2Fevil", "%3F"}));
  ASSERT_TRUE(last_);
  EXPECT_TRUE(*store.Load("../evil"));
}

}  // namespace
}  // namespace aloft::core::metadata
