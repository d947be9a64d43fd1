// The Json value type and the Get* helpers. The parser is in json_parse.cpp, the writers in
// json_write.cpp.

#include "core/codec/json.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

namespace aloft::core::codec {
namespace {

// A typed accessor called on the wrong kind is a bug in the caller, not bad input: abort
// loudly, in release builds too, rather than read the wrong variant member.
[[noreturn]] void DieWrongKind(const char* accessor, Json::Kind want, Json::Kind got) {
  std::string_view want_name = KindName(want);
  std::string_view got_name = KindName(got);
  (void)std::fprintf(stderr, "aloft: Json::%s called on %.*s value (expected %.*s)\n", accessor,
                     static_cast<int>(got_name.size()), got_name.data(),
                     static_cast<int>(want_name.size()), want_name.data());
  std::abort();
}

// The kind with its article, for messages: "must be an integer, not a string".
std::string_view KindWithArticle(Json::Kind kind) noexcept {
  switch (kind) {
    case Json::Kind::kNull:
      return "null";
    case Json::Kind::kBool:
      return "a boolean";
    case Json::Kind::kInt:
      return "an integer";
    case Json::Kind::kString:
      return "a string";
    case Json::Kind::kArray:
      return "an array";
    case Json::Kind::kObject:
      return "an object";
  }
  return "an unknown kind";
}

}  // namespace

// Out of line on purpose: see the header.
Json::Json(Json&&) noexcept = default;

Json::Json(std::uint64_t v) {
  if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    // Precondition: JSON integers here are int64 (TUF has nothing larger). A caller passing a
    // bigger unsigned value has a bug; wrapping it to a negative number would be worse.
    (void)std::fprintf(stderr, "aloft: Json(std::uint64_t) value %llu exceeds INT64_MAX\n",
                       static_cast<unsigned long long>(v));
    std::abort();
  }
  value_ = static_cast<std::int64_t>(v);
}

bool Json::AsBool() const {
  if (const bool* b = std::get_if<bool>(&value_)) return *b;
  DieWrongKind("AsBool", Kind::kBool, kind());
}

std::int64_t Json::AsInt() const {
  if (const std::int64_t* i = std::get_if<std::int64_t>(&value_)) return *i;
  DieWrongKind("AsInt", Kind::kInt, kind());
}

const std::string& Json::AsString() const {
  if (const std::string* s = std::get_if<std::string>(&value_)) return *s;
  DieWrongKind("AsString", Kind::kString, kind());
}

const Json::Array& Json::AsArray() const {
  if (const Array* a = std::get_if<Array>(&value_)) return *a;
  DieWrongKind("AsArray", Kind::kArray, kind());
}

Json::Array& Json::AsArray() {
  if (Array* a = std::get_if<Array>(&value_)) return *a;
  DieWrongKind("AsArray", Kind::kArray, kind());
}

const Json::Object& Json::AsObject() const {
  if (const Object* o = std::get_if<Object>(&value_)) return *o;
  DieWrongKind("AsObject", Kind::kObject, kind());
}

Json::Object& Json::AsObject() {
  if (Object* o = std::get_if<Object>(&value_)) return *o;
  DieWrongKind("AsObject", Kind::kObject, kind());
}

const Json* Json::Find(std::string_view key) const {
  const Object* object = std::get_if<Object>(&value_);
  if (object == nullptr) return nullptr;
  auto it = object->find(key);
  return it == object->end() ? nullptr : &it->second;
}

Json& Json::operator[](std::string_view key) {
  if (IsNull()) value_ = Object();
  Object* object = std::get_if<Object>(&value_);
  if (object == nullptr) DieWrongKind("operator[]", Kind::kObject, kind());
  auto it = object->lower_bound(key);
  if (it == object->end() || it->first != key) {
    it = object->emplace_hint(it, std::string(key), Json());
  }
  return it->second;
}

std::string_view KindName(Json::Kind kind) noexcept {
  switch (kind) {
    case Json::Kind::kNull:
      return "null";
    case Json::Kind::kBool:
      return "boolean";
    case Json::Kind::kInt:
      return "integer";
    case Json::Kind::kString:
      return "string";
    case Json::Kind::kArray:
      return "array";
    case Json::Kind::kObject:
      return "object";
  }
  return "unknown";
}

Result<const Json*> GetMember(const Json& object, std::string_view key, Json::Kind kind) {
  if (!object.IsObject()) {
    return Fail(Errc::kInvalidArgument, "cannot read field '" + std::string(key) + "' from " +
                                            std::string(KindWithArticle(object.kind())) +
                                            ", only from an object");
  }
  const Json* member = object.Find(key);
  if (member == nullptr) {
    return Fail(Errc::kInvalidArgument, "missing field '" + std::string(key) + "'");
  }
  if (member->kind() != kind) {
    return Fail(Errc::kInvalidArgument, "field '" + std::string(key) + "' must be " +
                                            std::string(KindWithArticle(kind)) + ", not " +
                                            std::string(KindWithArticle(member->kind())));
  }
  return member;
}

Result<std::int64_t> GetInt(const Json& object, std::string_view key) {
  auto member = GetMember(object, key, Json::Kind::kInt);
  if (!member) return Fail(std::move(member).error());
  return (*member)->AsInt();
}

Result<std::string> GetString(const Json& object, std::string_view key) {
  auto member = GetMember(object, key, Json::Kind::kString);
  if (!member) return Fail(std::move(member).error());
  return (*member)->AsString();
}

Result<bool> GetBool(const Json& object, std::string_view key) {
  auto member = GetMember(object, key, Json::Kind::kBool);
  if (!member) return Fail(std::move(member).error());
  return (*member)->AsBool();
}

Result<const Json::Object*> GetObject(const Json& object, std::string_view key) {
  auto member = GetMember(object, key, Json::Kind::kObject);
  if (!member) return Fail(std::move(member).error());
  return &(*member)->AsObject();
}

Result<const Json::Array*> GetArray(const Json& object, std::string_view key) {
  auto member = GetMember(object, key, Json::Kind::kArray);
  if (!member) return Fail(std::move(member).error());
  return &(*member)->AsArray();
}

}  // namespace aloft::core::codec
