#pragma once

// Aloft's JSON value, strict parser and canonical encoder. The parser is the first code that
// touches bytes from the network, so it is strict and bounded; the canonical encoder produces
// exactly the bytes TUF signs (securesystemslib's encode_canonical).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/base/result.hpp"

namespace aloft::core::codec {

class Json {
 public:
  enum class Kind : std::uint8_t { kNull, kBool, kInt, kString, kArray, kObject };
  using Array = std::vector<Json>;
  // Keys sorted by their UTF-8 bytes, which is the order canonical JSON requires.
  using Object = std::map<std::string, Json, std::less<>>;

  Json() = default;                                     // null
  Json(std::nullptr_t) {}                               // NOLINT
  Json(bool b) : value_(b) {}                           // NOLINT
  Json(int v) : value_(std::int64_t{v}) {}              // NOLINT
  Json(std::int64_t v) : value_(v) {}                   // NOLINT
  Json(std::uint64_t v);                                // NOLINT; asserts v <= INT64_MAX
  Json(std::string s) : value_(std::move(s)) {}         // NOLINT
  Json(std::string_view s) : value_(std::string(s)) {}  // NOLINT
  Json(const char* s) : value_(std::string(s)) {}       // NOLINT
  Json(Array a) : value_(std::move(a)) {}               // NOLINT
  Json(Object o) : value_(std::move(o)) {}              // NOLINT
  // Any other pointer would silently become a bool; make that a compile error instead.
  Json(const void*) = delete;

  // Copy and move are the member-wise defaults. The move constructor is defined out of line
  // because g++ 12, once it inlines the variant's move into code like `array.push_back(1)`,
  // reports a false -Wmaybe-uninitialized for the alternatives the temporary does not hold.
  Json(const Json&) = default;
  Json(Json&&) noexcept;
  Json& operator=(const Json&) = default;
  Json& operator=(Json&&) noexcept = default;
  ~Json() = default;

  Kind kind() const noexcept { return static_cast<Kind>(value_.index()); }
  bool IsNull() const noexcept { return kind() == Kind::kNull; }
  bool IsBool() const noexcept { return kind() == Kind::kBool; }
  bool IsInt() const noexcept { return kind() == Kind::kInt; }
  bool IsString() const noexcept { return kind() == Kind::kString; }
  bool IsArray() const noexcept { return kind() == Kind::kArray; }
  bool IsObject() const noexcept { return kind() == Kind::kObject; }

  // Typed access. Calling the wrong one is a bug (asserted), so check the kind first or use
  // the Get* helpers below, which turn a wrong kind into an Error.
  bool AsBool() const;
  std::int64_t AsInt() const;
  const std::string& AsString() const;
  const Array& AsArray() const;
  Array& AsArray();
  const Object& AsObject() const;
  Object& AsObject();

  // Object member or nullptr (also nullptr when this is not an object).
  const Json* Find(std::string_view key) const;
  // Object member, inserting null; turns a null value into an empty object first.
  Json& operator[](std::string_view key);

  friend bool operator==(const Json&, const Json&) = default;

 private:
  std::variant<std::nullptr_t, bool, std::int64_t, std::string, Array, Object> value_;
};

// Human-readable name of a kind ("object", "string", ...), for error messages.
std::string_view KindName(Json::Kind kind) noexcept;

// Bounds on what the parser accepts. Every input from outside goes through these.
struct ParseLimits {
  // Larger input fails with kTooLarge before any byte is looked at.
  std::size_t max_bytes = 16 * 1024 * 1024;
  // Arrays and objects nested deeper than this fail with kTooLarge ("[[1]]" has depth 2). The
  // parser itself never recurses, but ~Json, CanonicalJson and DumpJson do, one level per
  // nesting level: this limit is what keeps them within the stack, so keep it modest.
  std::size_t max_depth = 64;
};

// Strict RFC 8259 parser: exactly one value, surrounded by optional whitespace; valid UTF-8
// only (no overlongs, no surrogates), \u escapes must pair correctly; duplicate object keys
// rejected; numbers must be integers that fit int64 (TUF has no floats, and canonical JSON
// cannot encode them); "-0" is read as 0. Errors are kInvalidArgument (kTooLarge for the
// limits), and their message starts with the byte offset: "at byte 17: duplicate key 'a'".
Result<Json> ParseJson(std::string_view text, const ParseLimits& limits = {});

// Canonical JSON as securesystemslib's encode_canonical writes it: keys sorted, no
// whitespace, strings escape only '"' and '\\', everything else raw UTF-8. These are the
// bytes that TUF signatures cover.
std::string CanonicalJson(const Json& value);

// Ordinary JSON for people and APIs: standard escapes (control characters as \u00XX), with
// two-space indentation when pretty.
std::string DumpJson(const Json& value, bool pretty = false);

// Typed member lookups that name the field in their error: "field 'version' must be an integer".
Result<const Json*> GetMember(const Json& object, std::string_view key, Json::Kind kind);
Result<std::int64_t> GetInt(const Json& object, std::string_view key);
Result<std::string> GetString(const Json& object, std::string_view key);
Result<bool> GetBool(const Json& object, std::string_view key);
Result<const Json::Object*> GetObject(const Json& object, std::string_view key);
Result<const Json::Array*> GetArray(const Json& object, std::string_view key);

}  // namespace aloft::core::codec
