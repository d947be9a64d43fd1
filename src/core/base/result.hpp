#pragma once

// The only file that names tl::expected: switching to std::expected later is a one-file change.

#include <tl/expected.hpp>
#include <utility>

#include "core/base/error.hpp"

namespace aloft {

// A value or an Error. [[nodiscard]] on the class makes every ignored Result a compile error
// under -Werror, which tl::expected alone does not give us.
template <class T>
class [[nodiscard]] Result : public tl::expected<T, Error> {
 public:
  using Base = tl::expected<T, Error>;
  using Base::Base;
  Result(const Base& b) : Base(b) {}  // NOLINT(google-explicit-constructor)
  Result(Base&& b) : Base(std::move(b)) {}  // NOLINT(google-explicit-constructor)
};

using Status = Result<void>;

// The error branch: `return Fail(Errc::kNotFound, "no such role");`
inline tl::unexpected<Error> Fail(Errc code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> Fail(Error error) { return tl::unexpected<Error>(std::move(error)); }

// A success value for Status-returning functions: `return Ok();`
inline Status Ok() { return {}; }

}  // namespace aloft
