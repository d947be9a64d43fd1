// Canonical JSON and the strict parser: the first code that touches bytes from the network.
// Invariants, for any input the parser accepts:
//  - DumpJson (compact and pretty) and CanonicalJson write something the parser reads back as
//    the same value (canonical JSON writes control characters raw, which strict JSON forbids,
//    so that one round trip is checked only for values without them);
//  - canonical JSON is a fixed point: canonical(parse(canonical(v))) == canonical(v);
//  - the limits are honoured: one byte less than the input fails with kTooLarge, and a depth
//    limit below the value's depth fails with kTooLarge.
// For rejected input: the error is kInvalidArgument (or kTooLarge) and starts with the offset.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/codec/json.hpp"
#include "fuzz/check.hpp"

namespace {

using aloft::Errc;
using aloft::core::codec::CanonicalJson;
using aloft::core::codec::DumpJson;
using aloft::core::codec::Json;
using aloft::core::codec::ParseJson;
using aloft::core::codec::ParseLimits;
using aloft::fuzz::Check;

bool HasControl(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

// Depth as ParseLimits counts it ("[[1]]" is 2), and whether any string has a control byte.
// Recursion is bounded by the parser's own depth limit.
std::size_t Inspect(const Json& v, bool& control) {
  std::size_t deepest = 0;
  if (v.IsString()) {
    control = control || HasControl(v.AsString());
  } else if (v.IsArray()) {
    for (const Json& e : v.AsArray()) deepest = std::max(deepest, Inspect(e, control));
    return deepest + 1;
  } else if (v.IsObject()) {
    for (const auto& [key, e] : v.AsObject()) {
      control = control || HasControl(key);
      deepest = std::max(deepest, Inspect(e, control));
    }
    return deepest + 1;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseJson(text);
  if (!parsed) {
    const Errc code = parsed.error().code();
    Check(code == Errc::kInvalidArgument || code == Errc::kTooLarge, "rejections are input errors");
    Check(parsed.error().message().starts_with("at byte "), "rejections name the byte offset");
    return 0;
  }
  const Json& value = *parsed;

  for (const bool pretty : {false, true}) {
    auto again = ParseJson(DumpJson(value, pretty));
    Check(again.has_value(), "DumpJson output parses");
    Check(*again == value, "DumpJson round-trips");
  }

  bool control = false;
  const std::size_t depth = Inspect(value, control);
  const std::string canonical = CanonicalJson(value);
  if (!control) {
    auto again = ParseJson(canonical);
    Check(again.has_value(), "canonical JSON parses");
    Check(*again == value, "canonical JSON round-trips");
    Check(CanonicalJson(*again) == canonical, "canonical JSON is a fixed point");
  }

  if (size > 0) {
    auto small = ParseJson(text, ParseLimits{.max_bytes = size - 1});
    Check(!small && small.error().code() == Errc::kTooLarge, "max_bytes is enforced");
  }
  if (depth > 0) {
    auto shallow = ParseJson(text, ParseLimits{.max_depth = depth - 1});
    Check(!shallow && shallow.error().code() == Errc::kTooLarge, "max_depth is enforced");
    auto exact = ParseJson(text, ParseLimits{.max_depth = depth});
    Check(exact.has_value() && *exact == value, "a value exactly at max_depth parses");
  }
  return 0;
}
