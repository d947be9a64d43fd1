#pragma once

// `aloftctl login`: trades a username, password (and TOTP code when the account has one) for a
// long-lived API token, the way the contract wants tools to authenticate:
//   1. POST /api/v1/session {"username","password"[,"totp"]} -> cookie aloft_session + csrf_token
//      (401 totp_required: ask for the code and try once more with it)
//   2. POST /api/v1/tokens {"name","expires_in_days"[,"role"]} with the cookie and X-CSRF-Token
//      -> {"id","token","role","expires"}
//   3. DELETE /api/v1/session: the browser-style session is not needed any more
// An account that still has its one-time password (the session answer says
// must_change_password) first gets its new password (PUT /api/v1/users/self/password) and
// signs in again with it, since aloftd refuses everything else until then.
// The password and the session secret are never printed or stored.

#include <functional>
#include <optional>
#include <string>

#include "cli/aloftctl/client/api_client.hpp"

namespace aloft::cli::aloftctl::client {

struct LoginRequest {
  std::string username;
  std::string password;
  std::optional<std::string> totp;  // sent with the first attempt when given
  std::string token_name = "aloftctl";
  std::optional<std::string> token_role;  // default: the user's own role
  int token_days = 30;
};

// Asks the person for a new password (only called when the account must change its one-time
// password). At least 12 characters; aloftd checks its policy.
using NewPasswordPrompt = std::function<Result<std::string>()>;

struct IssuedToken {
  std::string id;
  std::string token;
  std::string role;
  std::string expires;
  std::string username;
};

// Asks the person for a TOTP code (only called on "totp_required").
using TotpPrompt = std::function<Result<std::string>()>;

// Runs the three steps above on `api` (its token is not used). A refused step is a
// RefusalError (api.refusal() is set), e.g. invalid_credentials; a missing token in the answer
// is kUnavailable.
Result<IssuedToken> Login(ApiClient& api, const LoginRequest& request, const TotpPrompt& totp,
                          const NewPasswordPrompt& new_password = {});

}  // namespace aloft::cli::aloftctl::client
