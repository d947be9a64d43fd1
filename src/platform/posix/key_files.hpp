#pragma once

// Private keys on disk. Deliberately independent of crypto: a key is PEM text here, parsing it
// is the caller's business. Files are created 0600 from their first instant.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/base/result.hpp"

namespace aloft::platform::posix {

// The largest key file ReadPrivateKeyFile accepts.
inline constexpr std::size_t kMaxKeyFileBytes = 1024 * 1024;

// Atomically writes `pem` to `path` with mode 0600 (the temporary file is created 0600 too).
// kIo / kNoSpace on failure; the parent directory must exist.
Status SavePrivateKeyFile(const std::filesystem::path& path, std::string_view pem);

// Reads a private key file, refusing one that group or others may access (mode & 077), like
// ssh does:
//   kInvalidArgument  "key file X is accessible by group or others (mode 0644); chmod 600 it"
//   kNotFound         no such file
//   kTooLarge         more than kMaxKeyFileBytes
//   kIo               anything else
// The mode is checked on the open descriptor, so the file checked is the file read.
Result<std::string> ReadPrivateKeyFile(const std::filesystem::path& path);

}  // namespace aloft::platform::posix
