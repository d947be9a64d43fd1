#include "server/api/error_mapping.hpp"

#include <iostream>

#include "core/codec/json.hpp"

namespace aloft::server::api {

int HttpStatusFor(Errc code) noexcept {
  switch (code) {
    case Errc::kInvalidArgument: return 400;
    case Errc::kVerificationFailed: return 403;
    case Errc::kExpired: return 403;
    case Errc::kNotFound: return 404;
    case Errc::kAlreadyExists: return 409;
    case Errc::kRollback: return 409;
    case Errc::kTooLarge: return 413;
    case Errc::kUnsupported: return 422;
    case Errc::kUnavailable: return 503;
    case Errc::kTimeout: return 503;
    case Errc::kNoSpace: return 507;
    case Errc::kCancelled:
    case Errc::kIo:
    case Errc::kCorrupt:
    case Errc::kInternal: return 500;
  }
  return 500;
}

http::Response ErrorResponse(const Error& error) {
  int status = HttpStatusFor(error.code());
  if (status >= 500) {
    // One structured line for operators; the client learns only that it was not its fault.
    core::codec::Json line = core::codec::Json::Object{
        {"level", "error"}, {"event", "request_failed"}, {"error", error.ToString()}};
    std::cerr << core::codec::DumpJson(line) << "\n";
    if (status == 507) {
      // A full disk is the operator's to fix, and the client may retry later: say so.
      return http::Response::Error(status, "insufficient_storage",
                                   "the server's storage is full, retry later");
    }
    std::string_view code = status == 503 ? http::errors::kUnavailable : http::errors::kInternal;
    return http::Response::Error(status, code,
                                 status == 503 ? "temporarily unavailable, retry later"
                                               : "internal error");
  }
  return http::Response::Error(status, ErrcName(error.code()), error.message());
}

http::Response BadRequest(std::string_view message) {
  return http::Response::Error(400, http::errors::kBadRequest, message);
}

}  // namespace aloft::server::api
