#include "agent/config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/temp_dir_fixture.hpp"

namespace aloft::agent::config {
namespace {

constexpr const char* kGood = R"(
server_url = "https://ota.example.com/"
ca_file = "/etc/aloft/ca.pem"
device_id = "dev-0042"
hardware_id = "rpi4"
enrollment_token = "abc"
poll_interval_seconds = 600
poll_jitter_percent = 10

[slots.a]
device = "/dev/mmcblk0p2"
kind = "block"
[slots.b]
device = "/dev/mmcblk0p3"
kind = "block"

[bootloader]
kind = "uboot"

[limits]
max_image_bytes = 1073741824
download_timeout_seconds = 600

[[health_checks]]
command = ["/usr/bin/systemctl", "is-system-running"]
timeout_seconds = 30
)";

// kGood with `line` appended at the top level (before the first table).
std::string With(const std::string& line) { return line + "\n" + kGood; }

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  text.replace(text.find(from), from.size(), to);
  return text;
}

// The error message of parsing `text`, which must fail.
std::string ErrorOf(const std::string& text, const Environment& env = {}) {
  auto parsed = ParseConfig(text, "/etc/aloft/agent.toml", env);
  EXPECT_FALSE(parsed) << text;
  if (parsed) return "";
  EXPECT_EQ(parsed.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(parsed.error().message().rfind("/etc/aloft/agent.toml", 0), 0u)
      << parsed.error().message();
  return parsed.error().message();
}

// The example shipped in deploy/ must stay a configuration the agent accepts.
TEST(ConfigTest, ShippedExampleParses) {
  const char* source = std::getenv("ALOFT_SOURCE_DIR");
  ASSERT_NE(source, nullptr);
  const std::filesystem::path path = std::filesystem::path(source) / "deploy/config/aloft-agent.toml";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  auto config = ParseConfig(text.str(), path.string());
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->bootloader.kind, BootloaderKind::kUboot);
  EXPECT_EQ(config->health_checks.size(), 2u);
  EXPECT_EQ(config->attributes.at("tags"), "berlin,field");
}

TEST(ConfigTest, GoodConfigWithDefaults) {
  auto c = ParseConfig(kGood, "agent.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server_url, "https://ota.example.com");
  EXPECT_EQ(c->ca_file, std::filesystem::path("/etc/aloft/ca.pem"));
  EXPECT_EQ(c->device_id, "dev-0042");
  EXPECT_EQ(c->data_dir, "/var/lib/aloft");
  EXPECT_EQ(c->key_file, "/var/lib/aloft/device.key");
  EXPECT_EQ(c->poll_interval, std::chrono::seconds(600));
  EXPECT_EQ(c->poll_jitter_percent, 10);
  EXPECT_EQ(c->slots.b.device, "/dev/mmcblk0p3");
  EXPECT_EQ(c->slots.a.kind, slots::SlotKind::kBlockDevice);
  EXPECT_EQ(c->bootloader.kind, BootloaderKind::kUboot);
  EXPECT_EQ(c->bootloader.env, "/etc/fw_env.config");
  EXPECT_EQ(c->limits.max_image_bytes, 1073741824u);
  EXPECT_EQ(c->limits.max_metadata_bytes, 1u << 20);
  ASSERT_EQ(c->health_checks.size(), 1u);
  EXPECT_EQ(c->health_checks[0].command[1], "is-system-running");
  EXPECT_EQ(c->health_checks[0].timeout, std::chrono::seconds(30));
}

TEST(ConfigTest, KeyFileFollowsDataDir) {
  auto c = ParseConfig(With("data_dir = \"/data/aloft\""), "agent.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->key_file, "/data/aloft/device.key");
}

TEST(ConfigTest, EachErrorNamesFileAndKey) {
  const std::pair<std::string, std::string> cases[] = {
      {With("sever_url = \"x\""), "sever_url: unknown key"},
      {Replace(kGood, "poll_interval_seconds = 600", "poll_interval_seconds = 1"),
       "poll_interval_seconds: must be between"},
      {Replace(kGood, "poll_jitter_percent = 10", "poll_jitter_percent = \"5\""),
       "poll_jitter_percent: must be an integer"},
      {With("data_dir = \"relative/dir\""), "data_dir: must be an absolute path"},
      {With("enrollment_token_file = \"/t\""), "enrollment_token_file: set either"},
      {With("allow_insecure_loopback = 1"), "allow_insecure_loopback: must be true or false"},
      {std::string(kGood) + "\n[limits.extra]\n", "limits.extra: unknown key"},
      {std::string(kGood) + "\n[oops]\n", "oops: unknown key"},
      {std::string(kGood) + "\n[[health_checks]]\ncommand = []\n",
       "health_checks[1].command: must be a non-empty array"},
      {std::string(kGood) + "\n[[health_checks]]\ncommand = [\"check\"]\n",
       "health_checks[1].command: program must be an absolute path"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = ErrorOf(text);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

TEST(ConfigTest, SectionErrorsNameTheirKeys) {
  std::string text = kGood;
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  EXPECT_NE(ErrorOf(replace("kind = \"uboot\"", "kind = \"lilo\"")).find("bootloader.kind"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("kind = \"uboot\"", "kind = \"simulated\"")).find("bootloader.env"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("/dev/mmcblk0p3", "/dev/mmcblk0p2")).find("slots.b.device"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("kind = \"block\"\n[slots.b]", "kind = \"disk\"\n[slots.b]"))
                .find("slots.a.kind"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("[slots.b]\ndevice = \"/dev/mmcblk0p3\"\nkind = \"block\"", ""))
                .find("slots.b: is required"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("device_id = \"dev-0042\"", "")).find("device_id: is required"),
            std::string::npos);
  EXPECT_NE(ErrorOf(replace("dev-0042", "../etc")).find("device_id"), std::string::npos);
  EXPECT_NE(ErrorOf(replace("download_timeout_seconds = 600", "download_timeout = 600"))
                .find("limits.download_timeout: unknown key"),
            std::string::npos);
  EXPECT_NE(ErrorOf("server_url = [").find("agent.toml:1:"), std::string::npos);
}

TEST(ConfigTest, PlainHttpOnlyToLoopbackWhenAllowed) {
  std::string text = kGood;
  text.replace(text.find("https://ota.example.com/"), 24, "http://127.0.0.1:8080");
  EXPECT_NE(ErrorOf(text).find("server_url: "), std::string::npos);
  auto c = ParseConfig(With("allow_insecure_loopback = true") + "", "a.toml");
  ASSERT_TRUE(c);
  auto loop = ParseConfig("allow_insecure_loopback = true\n" + text, "a.toml");
  ASSERT_TRUE(loop) << loop.error().ToString();
  std::string remote = kGood;
  remote.replace(remote.find("https://ota.example.com/"), 24, "http://ota.example.com");
  EXPECT_NE(ErrorOf("allow_insecure_loopback = true\n" + remote).find("server_url"),
            std::string::npos);
}

TEST(ConfigTest, EnvironmentOverridesTopLevelScalars) {
  Environment env{{"ALOFT_AGENT_SERVER_URL", "https://other.example"},
                  {"ALOFT_AGENT_POLL_INTERVAL_SECONDS", "60"},
                  {"ALOFT_AGENT_DATA_DIR", "/srv/aloft"},
                  {"ALOFT_AGENT_UNRELATED", "ignored"}};
  auto c = ParseConfig(kGood, "agent.toml", env);
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->server_url, "https://other.example");
  EXPECT_EQ(c->poll_interval, std::chrono::seconds(60));
  EXPECT_EQ(c->key_file, "/srv/aloft/device.key");
  const std::string message = ErrorOf(kGood, {{"ALOFT_AGENT_POLL_JITTER_PERCENT", "lots"}});
  EXPECT_NE(message.find("poll_jitter_percent"), std::string::npos) << message;
  EXPECT_NE(message.find("ALOFT_AGENT_POLL_JITTER_PERCENT"), std::string::npos) << message;
}

TEST(ConfigTest, UpdateLoopKeysHaveDefaults) {
  auto c = ParseConfig(kGood, "agent.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_FALSE(c->director_root);
  EXPECT_FALSE(c->image_root);
  EXPECT_TRUE(c->reboot_command.empty());
  EXPECT_EQ(c->max_update_attempts, 3);
  EXPECT_TRUE(c->attributes.empty());
  EXPECT_EQ(c->download.max_bytes_per_second, 0u);
  EXPECT_EQ(c->download.retries, 5);
  EXPECT_EQ(c->download.retry_initial, std::chrono::seconds(1));
  EXPECT_EQ(c->download.retry_max, std::chrono::seconds(60));
  EXPECT_TRUE(c->download.keep_partial);
  EXPECT_EQ(c->download.progress_interval, std::chrono::seconds(5));
}

TEST(ConfigTest, UpdateLoopKeysAreParsed) {
  const std::string text = std::string(R"(
director_root = "/etc/aloft/director-root.json"
image_root = "/etc/aloft/image-root.json"
reboot_command = ["/bin/systemctl", "reboot"]
max_update_attempts = 5
tags = ["lab", "canary", "lab"]
)") + kGood + R"(
[attributes]
site = "berlin"
[download]
max_bytes_per_second = 1048576
retries = 2
retry_initial_seconds = 2
retry_max_seconds = 30
keep_partial = false
progress_interval_seconds = 0
)";
  auto c = ParseConfig(text, "agent.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->director_root, std::filesystem::path("/etc/aloft/director-root.json"));
  EXPECT_EQ(c->image_root, std::filesystem::path("/etc/aloft/image-root.json"));
  EXPECT_EQ(c->reboot_command, (std::vector<std::string>{"/bin/systemctl", "reboot"}));
  EXPECT_EQ(c->max_update_attempts, 5);
  EXPECT_EQ(c->attributes,
            (std::map<std::string, std::string>{{"site", "berlin"}, {"tags", "canary,lab"}}));
  EXPECT_EQ(c->download.max_bytes_per_second, 1048576u);
  EXPECT_EQ(c->download.retries, 2);
  EXPECT_EQ(c->download.retry_initial, std::chrono::seconds(2));
  EXPECT_EQ(c->download.retry_max, std::chrono::seconds(30));
  EXPECT_FALSE(c->download.keep_partial);
  EXPECT_EQ(c->download.progress_interval, std::chrono::seconds(0));
}

TEST(ConfigTest, UpdateLoopKeyErrorsNameTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {With("director_root = \"root.json\""), "director_root: must be an absolute path"},
      {With("reboot_command = []"), "reboot_command: must be a non-empty array"},
      {With("reboot_command = [\"reboot\"]"), "reboot_command: program must be an absolute"},
      {With("max_update_attempts = 0"), "max_update_attempts: must be between"},
      {With("tags = [\"bad tag\"]"), "tags: 'bad tag' is not a valid tag"},
      {With("tags = [1]"), "tags: must be an array of strings"},
      {std::string(kGood) + "\n[attributes]\n\"bad name\" = \"x\"\n",
       "attributes.bad name: is not a valid attribute name"},
      {std::string(kGood) + "\n[attributes]\nsite = 3\n", "attributes.site: must be a string"},
      {With("tags = [\"a\"]") + "\n[attributes]\ntags = \"b\"\n",
       "tags: set either tags or attributes.tags"},
      {std::string(kGood) + "\n[download]\nretries = -1\n", "download.retries: must be between"},
      {std::string(kGood) + "\n[download]\nretry_initial_seconds = 10\nretry_max_seconds = 5\n",
       "download.retry_max_seconds: must not be below"},
      {std::string(kGood) + "\n[download]\nresume = true\n", "download.resume: unknown key"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string message = ErrorOf(text);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  }
}

using LoadConfigTest = testing::TempDirTest;

TEST_F(LoadConfigTest, ReadsFileAndNamesItInErrors) {
  EXPECT_EQ(LoadConfig(dir_ / "missing.toml").error().code(), Errc::kNotFound);
  { std::ofstream(dir_ / "agent.toml") << kGood; }
  auto c = LoadConfig(dir_ / "agent.toml");
  ASSERT_TRUE(c) << c.error().ToString();
  { std::ofstream(dir_ / "bad.toml") << "device_idd = 1\n" << kGood; }
  auto bad = LoadConfig(dir_ / "bad.toml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find((dir_ / "bad.toml").string() + ": device_idd"),
            std::string::npos)
      << bad.error().message();
}

}  // namespace
}  // namespace aloft::agent::config
