#include "core/base/error.hpp"

namespace aloft {

std::string_view ErrcName(Errc code) noexcept {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid_argument";
    case Errc::kNotFound: return "not_found";
    case Errc::kAlreadyExists: return "already_exists";
    case Errc::kVerificationFailed: return "verification_failed";
    case Errc::kExpired: return "expired";
    case Errc::kRollback: return "rollback";
    case Errc::kTooLarge: return "too_large";
    case Errc::kUnavailable: return "unavailable";
    case Errc::kTimeout: return "timeout";
    case Errc::kIo: return "io";
    case Errc::kNoSpace: return "no_space";
    case Errc::kCorrupt: return "corrupt";
    case Errc::kUnsupported: return "unsupported";
    case Errc::kCancelled: return "cancelled";
    case Errc::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::ToString() const { return std::string(ErrcName(code_)) + ": " + message_; }

}  // namespace aloft
