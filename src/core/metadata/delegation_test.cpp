#include "core/metadata/delegation.hpp"

#include <gtest/gtest.h>

#include "core/crypto/hash.hpp"

namespace aloft::core::metadata {
namespace {

TEST(PathPattern, SegmentWiseGlobbing) {
  EXPECT_TRUE(MatchesPathPattern("foo.tgz", "*.tgz"));
  EXPECT_TRUE(MatchesPathPattern("targets/foo.tgz", "targets/*.tgz"));
  EXPECT_FALSE(MatchesPathPattern("targets/sub/foo.tgz", "targets/*.tgz")) << "* stays in a segment";
  EXPECT_FALSE(MatchesPathPattern("foo.tgz", "*/*.tgz"));
  EXPECT_TRUE(MatchesPathPattern("a/b/c", "a/*/c"));
  EXPECT_TRUE(MatchesPathPattern("file1.txt", "file?.txt"));
  EXPECT_FALSE(MatchesPathPattern("file10.txt", "file?.txt"));
  EXPECT_TRUE(MatchesPathPattern("v1", "v[0-9]"));
  EXPECT_FALSE(MatchesPathPattern("va", "v[0-9]"));
  EXPECT_TRUE(MatchesPathPattern("va", "v[!0-9]"));
  EXPECT_FALSE(MatchesPathPattern("Foo", "foo")) << "case-sensitive";
  EXPECT_TRUE(MatchesPathPattern("", "*"));
  EXPECT_TRUE(MatchesPathPattern("abc", "a*b*c"));
  EXPECT_FALSE(MatchesPathPattern("abcd", "a*b*c"));
  EXPECT_TRUE(MatchesPathPattern("[x", "[x")) << "an unclosed bracket is literal";
}

TEST(PathPattern, HostilePatternsStayCheap) {
  std::string text(2000, 'a');
  std::string pattern;
  for (int i = 0; i < 500; ++i) pattern += "*a";
  pattern += "b";
  EXPECT_FALSE(MatchesPathPattern(text, pattern));
}

TEST(Delegation, HashPrefixes) {
  DelegatedRole role;
  std::string digest = crypto::Sha256Hex(AsBytes("x/y"));
  role.path_hash_prefixes = std::vector<std::string>{digest.substr(0, 3)};
  EXPECT_TRUE(IsDelegatedPath(role, "x/y"));
  role.path_hash_prefixes = std::vector<std::string>{digest[0] == '0' ? "1" : "0"};
  EXPECT_FALSE(IsDelegatedPath(role, "x/y"));
}

TEST(Delegation, SuccinctRolesBinNames) {
  SuccinctRoles s;
  s.bit_length = 8;
  s.name_prefix = "bin";
  // First byte of sha256("") is 0xe3.
  EXPECT_EQ(SuccinctRoleFor(s, ""), "bin-e3");
  s.bit_length = 4;
  EXPECT_EQ(SuccinctRoleFor(s, ""), "bin-e");
  s.bit_length = 10;  // 1024 bins: three hex digits, top ten bits of 0xe3b0...
  EXPECT_EQ(SuccinctRoleFor(s, ""), "bin-38e");
  EXPECT_TRUE(IsSuccinctRole(s, "bin-38e"));
  EXPECT_TRUE(IsSuccinctRole(s, "bin-000"));
  EXPECT_TRUE(IsSuccinctRole(s, "bin-3ff"));
  EXPECT_FALSE(IsSuccinctRole(s, "bin-400")) << "out of range";
  EXPECT_FALSE(IsSuccinctRole(s, "bin-38E")) << "only the canonical spelling";
  EXPECT_FALSE(IsSuccinctRole(s, "bin-38")) << "fixed width";
  EXPECT_FALSE(IsSuccinctRole(s, "other-38e"));
}

TEST(Delegation, RolesForTargetKeepsOrderAndTerminating) {
  Delegations d;
  DelegatedRole a, b, c;
  a.name = "a";
  a.paths = std::vector<std::string>{"*"};
  b.name = "b";
  b.paths = std::vector<std::string>{"nomatch"};
  c.name = "c";
  c.paths = std::vector<std::string>{"f*"};
  c.terminating = true;
  d.roles = {a, b, c};
  auto roles = RolesForTarget(d, "file");
  ASSERT_EQ(roles.size(), 2u);
  EXPECT_EQ(roles[0].name, "a");
  EXPECT_EQ(roles[1].name, "c");
  EXPECT_TRUE(roles[1].terminating);
  EXPECT_EQ(FindDelegatedRoleKeys(d, "b"), &d.roles[1].keys);
  EXPECT_EQ(FindDelegatedRoleKeys(d, "z"), nullptr);
}

}  // namespace
}  // namespace aloft::core::metadata
