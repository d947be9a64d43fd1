#include "server/blobs/object_store.hpp"

#include <algorithm>
#include <array>

namespace aloft::server::blobs {
namespace {

constexpr std::size_t kIdLength = 64;
constexpr std::size_t kCopyChunk = std::size_t{64} * 1024;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The start of a rejected id for the message: printable ASCII only, at most 16 characters, so a
// hostile id cannot inject control characters or megabytes into logs.
std::string Quote(std::string_view id) {
  std::string out = "'";
  for (char c : id.substr(0, 16)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (id.size() > 16) out += "...";
  return out + "'";
}

}  // namespace

Status ValidateBlobId(std::string_view sha256) {
  if (sha256.size() != kIdLength) {
    return Fail(Errc::kInvalidArgument, "blob id " + Quote(sha256) + " is " +
                                            std::to_string(sha256.size()) +
                                            " characters long, not 64 hex digits");
  }
  if (!std::all_of(sha256.begin(), sha256.end(), IsLowerHex)) {
    return Fail(Errc::kInvalidArgument,
                "blob id " + Quote(sha256) + " is not 64 lower-case hex digits");
  }
  return Ok();
}

Status CopyRange(BlobReader& reader, std::uint64_t offset, std::uint64_t length,
                 core::io::Writer& out) {
  const std::uint64_t size = reader.info().size;
  if (offset > size || length > size - offset) {
    return Fail(Errc::kInvalidArgument, "range of " + std::to_string(length) + " bytes at " +
                                            std::to_string(offset) + " lies outside blob of " +
                                            std::to_string(size) + " bytes");
  }
  std::array<std::uint8_t, kCopyChunk> buffer{};
  while (length > 0) {
    const std::size_t want =
        length < buffer.size() ? static_cast<std::size_t>(length) : buffer.size();
    auto n = reader.ReadAt(offset, std::span(buffer.data(), want));
    if (!n) return Fail(std::move(n).error());
    if (*n == 0) {
      return Fail(Errc::kIo, "blob " + reader.info().sha256 + " ended at " +
                                 std::to_string(offset) + " bytes, before its recorded size");
    }
    if (Status s = out.Write(ByteView(buffer.data(), *n)); !s) return s;
    offset += *n;
    length -= *n;
  }
  return Ok();
}

}  // namespace aloft::server::blobs
