// aloftd's start-up seals TOTP seeds that an older version stored in the clear, with the KEK
// it loads anyway; the row no longer holds the seed and opens only for its own operator.

#include <gtest/gtest.h>

#include <algorithm>

#include "core/base/hex.hpp"
#include "platform/sqlite/database.hpp"
#include "server/app/app.hpp"
#include "server/app/kek.hpp"
#include "server/operators/totp_seed_cipher.hpp"
#include "testing/temp_dir_fixture.hpp"

namespace aloft::server::app {
namespace {

class TotpSeedStartupTest : public testing::TempDirTest {
 protected:
  config::ServerConfig Config() {
    config::ServerConfig c;
    c.listen_address = "127.0.0.1";
    c.listen_port = 0;
    c.data_dir = dir_ / "data";
    c.public_url = "http://127.0.0.1";
    c.shutdown_drain = std::chrono::seconds(1);
    return c;
  }
  Bytes StoredSeed(const config::ServerConfig& c) {
    auto db = platform::sqlite::Database::Open(c.database_path());
    EXPECT_TRUE(db) << db.error().ToString();
    if (!db) return {};
    auto s = db->Prepare("SELECT totp_secret FROM operators WHERE username = 'admin'");
    EXPECT_TRUE(s);
    if (!s || !*s->Step()) return {};
    return s->ColumnBlob(0);
  }
};

TEST_F(TotpSeedStartupTest, APlaintextSeedIsSealedWhenAloftdStarts) {
  config::ServerConfig c = Config();
  ASSERT_TRUE(Init(c, {}));
  const Bytes seed(20, 0x42);
  {
    auto db = platform::sqlite::Database::Open(c.database_path());
    ASSERT_TRUE(db) << db.error().ToString();
    // What an older aloftd wrote for an operator with TOTP on.
    ASSERT_TRUE(db->Exec("UPDATE operators SET totp_secret = X'" + HexEncode(seed) +
                         "' WHERE username = 'admin'"));
  }
  EXPECT_EQ(StoredSeed(c), seed);
  {
    auto server = Aloftd::Start(c);
    ASSERT_TRUE(server) << server.error().ToString();
  }
  const Bytes stored = StoredSeed(c);
  ASSERT_TRUE(operators::TotpSeedCipher::IsSealed(stored));
  EXPECT_EQ(std::search(stored.begin(), stored.end(), seed.begin(), seed.end()), stored.end());
  auto kek = LoadKek(c);
  ASSERT_TRUE(kek);
  auto cipher = operators::TotpSeedCipher::Create(*kek);
  ASSERT_TRUE(cipher);
  EXPECT_EQ(*cipher->Open(stored, "admin"), seed);
  EXPECT_FALSE(cipher->Open(stored, "someone-else"));
  // (A second start converts nothing: TotpAtRestTest covers that the step is idempotent.)
}

}  // namespace
}  // namespace aloft::server::app
