#include "core/base/base64.hpp"

#include <array>
#include <cstdint>

namespace aloft {
namespace {
constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Each character's 6-bit value, or 0xff outside the alphabet. A table: every bearer token is
// decoded on every device request, so this loop is on aloftd's hottest path.
constexpr std::array<std::uint8_t, 256> kValues = [] {
  std::array<std::uint8_t, 256> values{};
  values.fill(0xff);
  for (std::uint8_t i = 0; i < 64; ++i) values[static_cast<unsigned char>(kAlphabet[i])] = i;
  return values;
}();
}  // namespace

std::string Base64UrlEncode(ByteView data) {
  std::string out;
  out.reserve((data.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                      std::uint32_t{data[i + 2]};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t v = std::uint32_t{data[i]} << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (rest == 2) {
    std::uint32_t v = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<Bytes> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return Fail(Errc::kInvalidArgument, "base64url text has a bad length");
  Bytes out(text.size() * 3 / 4);
  std::size_t o = 0;
  std::uint32_t bad = 0;  // any value with the 0x80 bit: a character outside the alphabet
  std::size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const std::uint32_t a = kValues[static_cast<unsigned char>(text[i])];
    const std::uint32_t b = kValues[static_cast<unsigned char>(text[i + 1])];
    const std::uint32_t c = kValues[static_cast<unsigned char>(text[i + 2])];
    const std::uint32_t d = kValues[static_cast<unsigned char>(text[i + 3])];
    bad |= a | b | c | d;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = static_cast<std::uint8_t>(v >> 16);
    out[o++] = static_cast<std::uint8_t>(v >> 8);
    out[o++] = static_cast<std::uint8_t>(v);
  }
  std::uint32_t acc = 0;
  int bits = 0;
  for (; i < text.size(); ++i) {
    const std::uint32_t v = kValues[static_cast<unsigned char>(text[i])];
    bad |= v;
    acc = (acc << 6) | (v & 63);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<std::uint8_t>((acc >> bits) & 0xff);
    }
  }
  if ((bad & 0x80) != 0) {
    return Fail(Errc::kInvalidArgument, "base64url text has a character outside its alphabet");
  }
  // Leftover bits must be zero, so each byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Fail(Errc::kInvalidArgument, "base64url text is not in canonical form");
  }
  return out;
}

}  // namespace aloft
