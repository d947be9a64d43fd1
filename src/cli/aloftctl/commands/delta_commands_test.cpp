// `aloftctl delta create|apply` run in-process on real files: the round trip, --json, and the
// refusals (wrong base, corrupt patch) that must leave OUT untouched.

#include <gtest/gtest.h>

#include <random>
#include <sstream>

#include "cli/aloftctl/commands/app.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "platform/posix/files.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::cli::aloftctl::commands {
namespace {

namespace posix = platform::posix;

class DeltaCommandsTest : public testing::TempDirTest {
 protected:
  struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
  };

  Outcome Run(std::vector<std::string> args) {
    std::ostringstream out, err;
    Environment env;
    env.out = &out;
    env.err = &err;
    env.getenv = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
    env.prompt = [](std::string_view, bool) -> Result<std::string> {
      return Fail(Errc::kUnavailable, "no terminal");
    };
    std::vector<std::string> argv{"aloftctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    Outcome o;
    o.code = commands::Run(argv, env);
    o.out = out.str();
    o.err = err.str();
    return o;
  }

  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  void WriteFile(const std::string& name, ByteView data) {
    ASSERT_TRUE(posix::AtomicWriteFile(dir_ / name, data));
  }

  Bytes ReadBack(const std::string& name) { return *posix::ReadFile(dir_ / name, 1u << 26); }

  static Bytes Image(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(rng() % 7 == 0 ? rng() : i / 64);
    return out;
  }
};

TEST_F(DeltaCommandsTest, CreateThenApplyRoundTrips) {
  Bytes old_image = Image(300'000, 1);
  Bytes new_image = old_image;
  new_image.insert(new_image.begin() + 1000, 5000, 0x90);
  new_image[200'000] ^= 0xff;
  WriteFile("old.img", old_image);
  WriteFile("new.img", new_image);

  Outcome created = Run({"delta", "create", Path("old.img"), Path("new.img"), Path("p.delta")});
  ASSERT_EQ(created.code, kExitOk) << created.err;
  EXPECT_NE(created.out.find("Wrote"), std::string::npos);
  EXPECT_LT(ReadBack("p.delta").size(), new_image.size() / 10);

  Outcome applied = Run({"--json", "delta", "apply", Path("old.img"), Path("p.delta"), Path("out.img")});
  ASSERT_EQ(applied.code, kExitOk) << applied.err;
  EXPECT_EQ(ReadBack("out.img"), new_image);
  auto json = core::codec::ParseJson(applied.out);
  ASSERT_TRUE(json) << applied.out;
  EXPECT_EQ(*core::codec::GetString(*json, "sha256"), core::crypto::Sha256Hex(new_image));

  Outcome created_json =
      Run({"delta", "create", "--json", Path("old.img"), Path("new.img"), Path("p2.delta")});
  ASSERT_EQ(created_json.code, kExitOk) << created_json.err;
  auto info = core::codec::ParseJson(created_json.out);
  ASSERT_TRUE(info) << created_json.out;
  EXPECT_EQ(*core::codec::GetInt(*info, "target_size"), static_cast<std::int64_t>(new_image.size()));
}

TEST_F(DeltaCommandsTest, RefusalsLeaveTheOutputUntouched) {
  Bytes old_image = Image(100'000, 2);
  Bytes new_image = Image(100'000, 3);
  WriteFile("old.img", old_image);
  WriteFile("new.img", new_image);
  WriteFile("out.img", AsBytes("previous"));
  ASSERT_EQ(Run({"delta", "create", Path("old.img"), Path("new.img"), Path("p.delta")}).code, kExitOk);

  // Wrong base: refused as a verification failure, OUT keeps its old content.
  Outcome wrong = Run({"delta", "apply", Path("new.img"), Path("p.delta"), Path("out.img")});
  EXPECT_EQ(wrong.code, kExitVerification);
  EXPECT_NE(wrong.err.find("wrong base"), std::string::npos) << wrong.err;
  EXPECT_EQ(ReadBack("out.img"), ToBytes("previous"));

  // A corrupt patch likewise.
  Bytes patch = ReadBack("p.delta");
  patch[patch.size() / 2] ^= 0x40;
  WriteFile("bad.delta", patch);
  Outcome corrupt = Run({"delta", "apply", Path("old.img"), Path("bad.delta"), Path("out.img")});
  EXPECT_EQ(corrupt.code, kExitVerification) << corrupt.err;
  EXPECT_EQ(ReadBack("out.img"), ToBytes("previous"));

  // Not a patch at all; a missing input; a missing argument.
  Outcome not_patch = Run({"delta", "apply", Path("old.img"), Path("new.img"), Path("out.img")});
  EXPECT_EQ(not_patch.code, kExitError);
  EXPECT_EQ(Run({"delta", "apply", Path("nope"), Path("p.delta"), Path("o")}).code, kExitError);
  EXPECT_EQ(Run({"delta", "create", Path("old.img"), Path("new.img")}).code, kExitUsage);
  EXPECT_EQ(ReadBack("out.img"), ToBytes("previous"));
}

}  // namespace
}  // namespace aloft::cli::aloftctl::commands
