#pragma once

// Time-based one-time passwords (RFC 6238) as authenticator apps make them: HMAC-SHA-1,
// 30-second steps counted from the Unix epoch, 6 digits. The HOTP core (RFC 4226) is
// liboath's. The secret never leaves the server except once, at enrolment, to the user.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/bytes.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"

namespace aloft::server::operators {

inline constexpr std::chrono::seconds kTotpPeriod{30};
inline constexpr std::size_t kTotpDigits = 6;
inline constexpr std::size_t kTotpSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// 20 bytes from the OS CSPRNG.
Result<Bytes> NewTotpSecret();

// The time step `t` falls in: floor(unix seconds / 30).
std::int64_t TotpStep(Timestamp t) noexcept;

// The 6-digit code for `step` (zero-padded). kInvalidArgument for an empty secret.
Result<std::string> TotpCode(ByteView secret, std::int64_t step);

// Checks `code` against the steps now-1, now and now+1 (clock drift of up to 30 s either way)
// and returns the step it matched, or nullopt. A step at or before `last_used_step` never
// matches, so a code that was accepted once cannot be replayed (pass -1 when none was used).
// Every candidate is compared in constant time.
Result<std::optional<std::int64_t>> MatchTotp(ByteView secret, std::string_view code, Timestamp now,
                                              std::int64_t last_used_step);

// RFC 4648 base32 without padding (what authenticator apps read): "JBSWY3DPEHPK3PXP".
std::string Base32Encode(ByteView data);

// "otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30",
// issuer and account percent-encoded: what a QR code for an authenticator app carries.
std::string OtpauthUri(std::string_view issuer, std::string_view account, ByteView secret);

}  // namespace aloft::server::operators
