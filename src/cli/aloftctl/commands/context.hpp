#pragma once

// What every aloftctl command shares: the outside world (streams, environment variables, the
// terminal, the clock), injected so tests run commands in-process; the global options; exit
// codes; and the lazily built repository and API client.

#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/aloftctl/client/api_client.hpp"
#include "cli/aloftctl/repo/offline_repo.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"

namespace aloft::cli::aloftctl::commands {

// Documented in `aloftctl --help`.
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,         // anything else: files, network, bad input found while working
  kExitUsage = 2,         // the command line itself is wrong
  kExitVerification = 3,  // a signature, threshold, hash or expiry check failed
  kExitRefused = 4,       // aloftd answered 4xx (not logged in, no permission, conflict, ...)
};

struct Environment {
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // An environment variable, or nullopt when unset.
  std::function<std::optional<std::string>(std::string_view)> getenv;
  // Reads one line from the terminal after printing `prompt`; without echo when `secret`.
  // Fails (kUnavailable) when there is no terminal.
  std::function<Result<std::string>(std::string_view prompt, bool secret)> prompt;
  // Draw progress bars (stderr is a terminal).
  bool progress = false;
  const Clock* clock = nullptr;
};

struct GlobalOptions {
  bool json = false;
  std::string repo = "aloft-repo";
  std::string server;
  std::string ca;
  std::string passphrase_file;
  bool allow_http_loopback = false;
};

class Context {
 public:
  explicit Context(Environment& env) : env_(env) {}

  GlobalOptions global;

  std::ostream& out() { return *env_.out; }
  std::ostream& err() { return *env_.err; }
  Environment& env() { return env_; }
  Timestamp Now() const;
  std::optional<std::string> Getenv(std::string_view name) const { return env_.getenv(name); }

  // Prints "aloftctl: <message>" to stderr and returns the exit code for `error`: 4 when the
  // API client's last call was refused, 3 for verification problems, 1 otherwise.
  int Failed(const Error& error);
  // Prints a usage problem found after parsing (conflicting options) and returns 2.
  int Usage(std::string_view message);

  // `--json` output: the value, pretty, on stdout.
  void PrintJson(const core::codec::Json& value);

  // The offline repository at --repo.
  Result<repo::OfflineRepo> OpenRepo() const;

  // A key passphrase: --passphrase-file (first line), else $ALOFT_PASSPHRASE, else the
  // terminal (asked twice when `confirm`, for new keys). kInvalidArgument when none of them
  // is available.
  Result<std::string> Passphrase(std::string_view purpose, bool confirm);

  // The server URL: --server, else $ALOFT_SERVER, else the default from the credentials file.
  Result<std::string> ServerUrl();
  // The API client for the server, with the token from $ALOFT_TOKEN or the credentials file
  // (no token is not an error here; the first call that needs one says so).
  Result<client::ApiClient*> Api();
  // The API client's last refusal, if a client was made.
  const client::ApiClient* api() const noexcept { return api_.get(); }

  // Where credentials are kept: $ALOFT_CREDENTIALS, else the XDG default.
  Result<std::filesystem::path> CredentialsPath() const;

 private:
  Environment& env_;
  std::unique_ptr<client::ApiClient> api_;
};

// Runs one API call (`call(ApiClient&)` returning Result<Json>); on success prints the answer:
// JSON with --json, else `human(answer)`. Returns the exit code.
template <class Call, class Human>
int CallApi(Context& ctx, Call call, Human human) {
  auto api = ctx.Api();
  if (!api) return ctx.Failed(api.error());
  auto body = call(**api);
  if (!body) return ctx.Failed(body.error());
  if (ctx.global.json) {
    ctx.PrintJson(*body);
  } else {
    human(*body);
  }
  return kExitOk;
}

}  // namespace aloft::cli::aloftctl::commands
