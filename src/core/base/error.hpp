#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aloft {

// Error codes are chosen by what the *caller should do next*, not by which module failed.
enum class Errc : std::uint8_t {
  kInvalidArgument,     // the input is malformed: fix the input, retrying will not help
  kNotFound,            // the thing does not exist (TUF root rotation stops here, and only here)
  kAlreadyExists,       // a create collided with something already present
  kVerificationFailed,  // bad signature, threshold, hash or length: never retry the same bytes
  kExpired,             // metadata past its expiry: keep the old trusted state, report
  kRollback,            // a version went backwards: keep the old trusted state, report
  kTooLarge,            // a size limit was hit (endless-data defence)
  kUnavailable,         // network or server trouble: retry with back-off
  kTimeout,             // a deadline passed (slow-retrieval defence)
  kIo,                  // the local environment failed (disk, permissions)
  kNoSpace,             // the local disk is full
  kCorrupt,             // persisted state is unreadable: fail-stop, do not guess
  kUnsupported,         // a key type, scheme or feature we do not implement
  kCancelled,           // the caller asked to stop
  kInternal,            // a bug: an invariant did not hold
};

// Stable lower-case name of a code, for logs and JSON error bodies.
std::string_view ErrcName(Errc code) noexcept;

// A failure with a message a person can act on. Context is prepended as the error crosses
// layers ("refresh: snapshot: hash mismatch"), so the message reads outermost first.
class Error {
 public:
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  Errc code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

  // Returns the same error with "what: " in front of the message.
  Error WithContext(std::string_view what) && {
    message_.insert(0, std::string(what) + ": ");
    return std::move(*this);
  }
  Error WithContext(std::string_view what) const& { return Error(*this).WithContext(what); }

  // "<code name>: <message>"
  std::string ToString() const;

 private:
  Errc code_;
  std::string message_;
};

}  // namespace aloft
