#pragma once

// Offline private keys on disk: PKCS#8 PEM encrypted with the holder's passphrase (scrypt +
// AES-256, see core::crypto::PrivateKey::ToPem), files 0600 in a 0700 directory, named by role
// and key id so `keys show` can tell which file is which without the passphrase.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/result.hpp"
#include "core/crypto/keys.hpp"

namespace aloft::cli::aloftctl::keys {

// Passphrases for new keys must be at least this long: the PEM file is all that stands
// between a stolen USB stick and the power to release software.
inline constexpr std::size_t kMinPassphraseLength = 8;

// "<role>-<first 16 hex digits of keyid>.pem"
std::string KeyFileName(std::string_view role, std::string_view keyid);

// Writes `key` encrypted under `passphrase` into `keys_dir` (which must exist) and returns the
// path. kInvalidArgument for a passphrase shorter than kMinPassphraseLength; kAlreadyExists if
// the file exists. The PEM text is wiped from memory after writing.
Result<std::filesystem::path> SaveKey(const std::filesystem::path& keys_dir, std::string_view role,
                                      const core::crypto::PrivateKey& key,
                                      std::string_view passphrase);

// Reads and decrypts a key file. A wrong passphrase is kVerificationFailed; a file readable by
// group or others is refused (kInvalidArgument, "chmod 600 it").
Result<core::crypto::PrivateKey> LoadKey(const std::filesystem::path& path,
                                         std::string_view passphrase);

// The key file in `keys_dir` for `keyid` (any role), if there is one.
std::optional<std::filesystem::path> FindKeyFile(const std::filesystem::path& keys_dir,
                                                 std::string_view keyid);

// Overwrites a secret in place before it is freed (explicit_bzero: not optimised away).
void Wipe(std::string& secret) noexcept;

}  // namespace aloft::cli::aloftctl::keys
