#include "core/codec/json.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>

namespace aloft::core::codec {

// Lets gtest print values in failure messages (found by ADL, so it lives in Json's namespace).
void PrintTo(const Json& value, std::ostream* os) { *os << DumpJson(value); }

namespace {

using namespace std::string_literals;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

// Parses text that must be valid, failing the test with the parser's message otherwise.
Json MustParse(std::string_view text, const ParseLimits& limits = {}) {
  auto result = ParseJson(text, limits);
  EXPECT_TRUE(result.has_value()) << "input: " << text << "\nerror: " << result.error().message();
  return result.has_value() ? *std::move(result) : Json();
}

// Expects the parser to refuse `text` with `code` and a message containing `fragment`.
void ExpectRejected(std::string_view text, std::string_view fragment,
                    Errc code = Errc::kInvalidArgument, const ParseLimits& limits = {}) {
  SCOPED_TRACE("input: " + std::string(text.substr(0, 80)));
  auto result = ParseJson(text, limits);
  ASSERT_FALSE(result.has_value()) << "accepted, canonical form: " << CanonicalJson(*result);
  EXPECT_EQ(result.error().code(), code) << result.error().message();
  EXPECT_NE(result.error().message().find(fragment), std::string::npos)
      << "message: " << result.error().message() << "\nexpected to contain: " << fragment;
}

// The string a JSON document consisting of one string literal decodes to.
std::string ParseString(std::string_view literal) {
  Json value = MustParse(literal);
  return value.IsString() ? value.AsString() : "<not a string>";
}

std::string Nested(std::size_t depth, char open, char close, std::string_view inner = "") {
  return std::string(depth, open) + std::string(inner) + std::string(depth, close);
}

// ---------------------------------------------------------------------------------------------
// The value type

TEST(JsonValue, DefaultIsNull) {
  Json value;
  EXPECT_TRUE(value.IsNull());
  EXPECT_EQ(value.kind(), Json::Kind::kNull);
  EXPECT_EQ(Json(nullptr), Json());
}

TEST(JsonValue, ConstructorsPickTheRightKind) {
  EXPECT_TRUE(Json(true).IsBool());
  EXPECT_TRUE(Json(false).IsBool());
  EXPECT_TRUE(Json(7).IsInt());
  EXPECT_TRUE(Json(std::int64_t{7}).IsInt());
  EXPECT_TRUE(Json(std::uint64_t{7}).IsInt());
  EXPECT_TRUE(Json("text").IsString());
  EXPECT_TRUE(Json("text"s).IsString());
  EXPECT_TRUE(Json(std::string_view("text")).IsString());
  EXPECT_TRUE(Json(Json::Array{1, 2}).IsArray());
  EXPECT_TRUE(Json(Json::Object{{"a", 1}}).IsObject());

  EXPECT_EQ(Json(7).AsInt(), 7);
  EXPECT_EQ(Json(kInt64Min).AsInt(), kInt64Min);
  EXPECT_EQ(Json(static_cast<std::uint64_t>(kInt64Max)).AsInt(), kInt64Max);
  EXPECT_EQ(Json("text").AsString(), "text");
  EXPECT_TRUE(Json(true).AsBool());
  EXPECT_EQ(Json(Json::Array{1, "x"}).AsArray().size(), 2u);
}

TEST(JsonValue, EqualityComparesKindAndValue) {
  EXPECT_EQ(Json(1), Json(std::int64_t{1}));
  EXPECT_NE(Json(1), Json(true));
  EXPECT_NE(Json(0), Json(nullptr));
  EXPECT_NE(Json("1"), Json(1));
  EXPECT_EQ(Json(Json::Object{{"a", Json::Array{1}}}), Json(Json::Object{{"a", Json::Array{1}}}));
  EXPECT_NE(Json(Json::Object{{"a", 1}}), Json(Json::Object{{"a", 2}}));
  EXPECT_NE(Json(Json::Array{1, 2}), Json(Json::Array{2, 1}));
}

TEST(JsonValue, FindReturnsMemberOrNull) {
  Json object = Json::Object{{"a", 1}, {"b", "x"}};
  ASSERT_NE(object.Find("a"), nullptr);
  EXPECT_EQ(*object.Find("a"), Json(1));
  EXPECT_EQ(object.Find("c"), nullptr);
  EXPECT_EQ(Json(1).Find("a"), nullptr);
  EXPECT_EQ(Json().Find("a"), nullptr);
  EXPECT_EQ(Json(Json::Array{1}).Find("a"), nullptr);
}

TEST(JsonValue, IndexTurnsNullIntoObjectAndInsertsNull) {
  Json value;
  value["b"]["c"] = 1;
  value["a"] = "x";
  ASSERT_TRUE(value.IsObject());
  EXPECT_EQ(value.AsObject().size(), 2u);
  EXPECT_TRUE(value["new"].IsNull());
  EXPECT_EQ(value.AsObject().size(), 3u);
  EXPECT_EQ(CanonicalJson(value), R"({"a":"x","b":{"c":1},"new":null})");
  value["a"] = 2;  // existing member is reused, not duplicated
  EXPECT_EQ(value.AsObject().size(), 3u);
  EXPECT_EQ(value["a"], Json(2));
}

TEST(JsonValue, MutableAccessorsModifyInPlace) {
  Json array = Json::Array{};
  array.AsArray().push_back(1);
  array.AsArray().push_back("two");
  EXPECT_EQ(CanonicalJson(array), R"([1,"two"])");
  Json object = Json::Object{};
  object.AsObject().emplace("k", true);
  EXPECT_EQ(CanonicalJson(object), R"({"k":true})");
}

TEST(JsonValue, KindNames) {
  EXPECT_EQ(KindName(Json::Kind::kNull), "null");
  EXPECT_EQ(KindName(Json::Kind::kBool), "boolean");
  EXPECT_EQ(KindName(Json::Kind::kInt), "integer");
  EXPECT_EQ(KindName(Json::Kind::kString), "string");
  EXPECT_EQ(KindName(Json::Kind::kArray), "array");
  EXPECT_EQ(KindName(Json::Kind::kObject), "object");
}

TEST(JsonValueDeathTest, WrongAccessorAborts) {
  EXPECT_DEATH((void)Json(1).AsString(), "AsString");
  EXPECT_DEATH((void)Json("x").AsInt(), "AsInt");
  EXPECT_DEATH((void)Json().AsBool(), "AsBool");
  EXPECT_DEATH((void)Json(1).AsArray(), "AsArray");
  EXPECT_DEATH((void)Json(Json::Array{}).AsObject(), "AsObject");
}

TEST(JsonValueDeathTest, IndexOnNonObjectAborts) {
  Json array = Json::Array{};
  EXPECT_DEATH(array["a"], "operator\\[\\]");
  Json number = 1;
  EXPECT_DEATH(number["a"], "operator\\[\\]");
}

TEST(JsonValueDeathTest, UnsignedAboveInt64MaxAborts) {
  EXPECT_DEATH((void)Json(static_cast<std::uint64_t>(kInt64Max) + 1), "INT64_MAX");
  EXPECT_DEATH((void)Json(std::numeric_limits<std::uint64_t>::max()), "INT64_MAX");
}

// ---------------------------------------------------------------------------------------------
// Parsing: what is accepted

TEST(JsonParse, Scalars) {
  EXPECT_EQ(MustParse("null"), Json());
  EXPECT_EQ(MustParse("true"), Json(true));
  EXPECT_EQ(MustParse("false"), Json(false));
  EXPECT_EQ(MustParse("0"), Json(0));
  EXPECT_EQ(MustParse("42"), Json(42));
  EXPECT_EQ(MustParse("-42"), Json(-42));
  EXPECT_EQ(MustParse("\"hi\""), Json("hi"));
  EXPECT_EQ(MustParse("\"\""), Json(""));
}

TEST(JsonParse, NegativeZeroIsZero) {
  Json value = MustParse("-0");
  ASSERT_TRUE(value.IsInt());
  EXPECT_EQ(value.AsInt(), 0);
  EXPECT_EQ(CanonicalJson(value), "0");
}

TEST(JsonParse, Containers) {
  Json value = MustParse(R"({"b":[1,true,null,"s",{}],"a":{"c":[]}})");
  ASSERT_TRUE(value.IsObject());
  EXPECT_EQ(value.AsObject().size(), 2u);
  const Json& b = *value.Find("b");
  ASSERT_TRUE(b.IsArray());
  EXPECT_EQ(b.AsArray(), (Json::Array{1, true, nullptr, "s", Json::Object{}}));
  EXPECT_EQ(*value.Find("a"), Json(Json::Object{{"c", Json::Array{}}}));
  EXPECT_EQ(MustParse("[]"), Json(Json::Array{}));
  EXPECT_EQ(MustParse("{}"), Json(Json::Object{}));
  EXPECT_EQ(MustParse("[[],[[]]]"), Json(Json::Array{Json::Array{}, Json::Array{Json::Array{}}}));
}

TEST(JsonParse, WhitespaceAroundAndInside) {
  EXPECT_EQ(MustParse(" \t\r\n1 \t\r\n"), Json(1));
  EXPECT_EQ(MustParse(" { \"a\" : [ 1 , 2 ] , \"b\" :\n{ } } "),
            Json(Json::Object{{"a", Json::Array{1, 2}}, {"b", Json::Object{}}}));
  EXPECT_EQ(MustParse("[\r\n\t]"), Json(Json::Array{}));
}

TEST(JsonParse, SortedAndUnsortedKeysGiveTheSameObject) {
  EXPECT_EQ(MustParse(R"({"a":1,"b":2,"c":3})"), MustParse(R"({"c":3,"a":1,"b":2})"));
}

TEST(JsonParse, SimpleEscapes) {
  EXPECT_EQ(ParseString(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
}

TEST(JsonParse, UnicodeEscapesDecodeToUtf8) {
  EXPECT_EQ(ParseString(R"("\u0041")"), "A");
  EXPECT_EQ(ParseString(R"("\u00e9")"), "\xC3\xA9");
  EXPECT_EQ(ParseString(R"("\u00E9")"), "\xC3\xA9");
  EXPECT_EQ(ParseString(R"("\u07ff")"), "\xDF\xBF");
  EXPECT_EQ(ParseString(R"("\u0800")"), "\xE0\xA0\x80");
  EXPECT_EQ(ParseString(R"("\u2028")"), "\xE2\x80\xA8");
  EXPECT_EQ(ParseString(R"("\uffff")"), "\xEF\xBF\xBF");
  EXPECT_EQ(ParseString(R"("\ud83d\ude00")"), "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(ParseString(R"("\uD800\uDC00")"), "\xF0\x90\x80\x80");  // U+10000
  EXPECT_EQ(ParseString(R"("\udbff\udfff")"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
  EXPECT_EQ(ParseString(R"("a\u0000b")"), "a\0b"s);
}

TEST(JsonParse, RawUtf8Accepted) {
  // Boundaries of each sequence length and around the surrogate gap.
  for (const std::string& raw : {"\xC2\x80"s, "\xDF\xBF"s, "\xE0\xA0\x80"s, "\xED\x9F\xBF"s,
                                 "\xEE\x80\x80"s, "\xEF\xBF\xBF"s, "\xF0\x90\x80\x80"s,
                                 "\xF4\x8F\xBF\xBF"s, "\xC3\xA9"s, "\xE2\x80\xA8"s, "\x7F"s}) {
    SCOPED_TRACE(raw);
    EXPECT_EQ(ParseString("\"" + raw + "\""), raw);
    EXPECT_EQ(ParseString("\"x" + raw + "y" + raw + "\""), "x" + raw + "y" + raw);
  }
}

TEST(JsonParse, Int64Bounds) {
  EXPECT_EQ(MustParse("9223372036854775807"), Json(kInt64Max));
  EXPECT_EQ(MustParse("-9223372036854775808"), Json(kInt64Min));
  EXPECT_EQ(MustParse("-9223372036854775807"), Json(kInt64Min + 1));
  EXPECT_EQ(MustParse("[9223372036854775807,-9223372036854775808]"),
            Json(Json::Array{kInt64Max, kInt64Min}));
}

TEST(JsonParse, TopLevelScalarsAndStrings) {
  EXPECT_EQ(MustParse(" \"x\" "), Json("x"));
  EXPECT_EQ(MustParse("7"), Json(7));
}

// ---------------------------------------------------------------------------------------------
// Parsing: every rejection class

TEST(JsonParse, RejectsEmptyInput) {
  ExpectRejected("", "unexpected end of input");
  ExpectRejected(" \n\t\r", "unexpected end of input");
}

TEST(JsonParse, RejectsTrailingGarbage) {
  ExpectRejected("1 2", "at byte 2: unexpected character '2' after the JSON value");
  ExpectRejected("{}x", "after the JSON value");
  ExpectRejected("[]]", "after the JSON value");
  ExpectRejected("nullx", "after the JSON value");
  ExpectRejected("\"a\"\"b\"", "after the JSON value");
  ExpectRejected("0 ,", "after the JSON value");
  ExpectRejected("{}\0"s, "byte 0x00");
}

TEST(JsonParse, RejectsByteOrderMark) {
  ExpectRejected("\xEF\xBB\xBF{}", "byte order mark");
  ExpectRejected(
      "\xEF\xBB\xBF"
      "1",
      "at byte 0");
}

TEST(JsonParse, RejectsNonJsonWhitespace) {
  ExpectRejected("\f1", "byte 0x0c");
  ExpectRejected("1\v", "byte 0x0b");
  ExpectRejected(
      "[1,\xC2\xA0"
      "2]",
      "byte 0xc2");  // U+00A0 no-break space
}

TEST(JsonParse, RejectsDuplicateKeys) {
  ExpectRejected(R"({"a":1,"a":2})", "at byte 7: duplicate key 'a'");
  ExpectRejected(R"({"b":1,"a":2,"b":3})", "duplicate key 'b'");
  ExpectRejected(R"({"x":{"k":1,"k":1}})", "duplicate key 'k'");
  ExpectRejected(R"([{},{"":0,"":0}])", "duplicate key ''");
}

TEST(JsonParse, RejectsDuplicateKeysAfterUnescaping) {
  ExpectRejected(R"({"a":1,"\u0061":2})", "duplicate key 'a'");
  ExpectRejected(R"({"\u00e9":1,"é":2})", "duplicate key");
  ExpectRejected(R"({"a/":1,"a\/":2})", "duplicate key 'a/'");
}

TEST(JsonParse, DuplicateKeyMessageIsBoundedAndPrintable) {
  const std::string key(1000, 'k');
  auto result = ParseJson("{\"" + key + "\":1,\"" + key + "\":2}");
  ASSERT_FALSE(result.has_value());
  EXPECT_LT(result.error().message().size(), 200u);
  auto nasty = ParseJson("{\"\\n\":1,\"\\n\":2}");
  ASSERT_FALSE(nasty.has_value());
  EXPECT_NE(nasty.error().message().find("'\\x0a'"), std::string::npos) << nasty.error().message();
}

TEST(JsonParse, DistinctKeysThatShareAPrefixAreNotDuplicates) {
  Json value = MustParse(R"({"a":1,"ab":2,"A":3,"":4,"b":5,"a ":6})");
  EXPECT_EQ(value.AsObject().size(), 6u);
}

TEST(JsonParse, RejectsIntegerOutOfRange) {
  ExpectRejected("9223372036854775808", "at byte 0: integer out of range");
  ExpectRejected("-9223372036854775809", "integer out of range");
  ExpectRejected("[1,18446744073709551616]", "at byte 3: integer out of range");
  ExpectRejected("99999999999999999999999999999999", "integer out of range");
  ExpectRejected("-99999999999999999999999999999999", "integer out of range");
}

TEST(JsonParse, RejectsNonIntegerNumbers) {
  for (const char* text :
       {"1.0", "0.5", "-0.0", "1e5", "1E5", "1e+2", "0e0", "-1.5e-3", "[2.5]", "{\"a\":3.14}"}) {
    ExpectRejected(text, "non-integer numbers are not supported");
  }
}

TEST(JsonParse, RejectsMalformedNumbers) {
  ExpectRejected("01", "leading zeros");
  ExpectRejected("-01", "leading zeros");
  ExpectRejected("00", "leading zeros");
  ExpectRejected("-", "'-' must be followed by a digit");
  ExpectRejected("-a", "'-' must be followed by a digit");
  ExpectRejected("--1", "'-' must be followed by a digit");
  ExpectRejected("+1", "unexpected character '+'");
  ExpectRejected(".5", "unexpected character '.'");
  ExpectRejected("1.", "non-integer");
  ExpectRejected("0x10", "after the JSON value");
  ExpectRejected("Infinity", "unexpected character 'I'");
  ExpectRejected("NaN", "unexpected character 'N'");
}

TEST(JsonParse, RejectsBadLiterals) {
  for (const char* text : {"tru", "nul", "fals", "True", "NULL", "nil", "t", "[truth]"}) {
    SCOPED_TRACE(text);
    auto result = ParseJson(text);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
  }
  ExpectRejected("tru", "invalid literal");
  ExpectRejected("falsey", "after the JSON value");
}

TEST(JsonParse, RejectsStructuralErrors) {
  ExpectRejected("[1,]", "at byte 3: unexpected character ']'");
  ExpectRejected("[,1]", "unexpected character ','");
  ExpectRejected("{\"a\":1,}", "expected a string key");
  ExpectRejected("[1 2]", "expected ',' or ']'");
  ExpectRejected("{\"a\":1 \"b\":2}", "expected ',' or '}'");
  ExpectRejected("{\"a\" 1}", "expected ':'");
  ExpectRejected("{\"a\":}", "unexpected character '}'");
  ExpectRejected("{1:2}", "expected a string key");
  ExpectRejected("{a:1}", "expected a string key");
  ExpectRejected("{'a':1}", "expected a string key");
  ExpectRejected("[1}", "expected ',' or ']'");
  ExpectRejected("{\"a\":1]", "expected ',' or '}'");
  ExpectRejected("]", "unexpected character ']'");
  ExpectRejected("}", "unexpected character '}'");
  ExpectRejected(":", "unexpected character ':'");
  ExpectRejected("/* comment */ 1", "unexpected character '/'");
}

TEST(JsonParse, RejectsTruncatedDocuments) {
  for (const char* text : {"[", "{", "[1", "[1,", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,",
                           "[[[]]", "\"abc", "\"abc\\", "\"\\u12", "-"}) {
    SCOPED_TRACE(text);
    auto result = ParseJson(text);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
  }
  ExpectRejected("[1,", "at byte 3: unexpected end of input");
  ExpectRejected("\"abc", "unterminated string (opened at byte 0)");
  ExpectRejected("{\"a\":1", "unexpected end of input, expected ',' or '}'");
}

TEST(JsonParse, RejectsRawControlCharactersInStrings) {
  for (int c = 0; c < 0x20; ++c) {
    std::string text = "\"a";
    text.push_back(static_cast<char>(c));
    text += "b\"";
    ExpectRejected(text, "at byte 2: raw control character");
  }
  ExpectRejected(
      "{\"k\x1b"
      "y\":1}",
      "raw control character 0x1b");
  EXPECT_EQ(ParseString("\"\x7F\""), "\x7F");  // DEL is not a control character in JSON
}

TEST(JsonParse, RejectsInvalidEscapes) {
  ExpectRejected(R"("\x41")", "at byte 1: invalid escape sequence '\\x'");
  ExpectRejected(R"("\a")", "invalid escape sequence");
  ExpectRejected(R"("\'")", "invalid escape sequence");
  ExpectRejected(R"("\U0041")", "invalid escape sequence");
  ExpectRejected(R"("\0")", "invalid escape sequence");
  ExpectRejected("\"\\\x01\"", "invalid escape sequence '\\0x01'");
  ExpectRejected(R"("\u12")", "four hex digits");
  ExpectRejected(R"("\u12G4")", "four hex digits");
  ExpectRejected(R"("\u-123")", "four hex digits");
  ExpectRejected(R"("\u 123")", "four hex digits");
  ExpectRejected("\"\\u004", "four hex digits");
  ExpectRejected("\"\\", "unterminated escape");
}

TEST(JsonParse, RejectsLoneSurrogateEscapes) {
  ExpectRejected(R"("\ud800")", "unpaired high surrogate");
  ExpectRejected(R"("\udbff x")", "unpaired high surrogate");
  ExpectRejected(R"("\ud800\u0041")", "unpaired high surrogate");
  ExpectRejected(R"("\ud800\ud800")", "unpaired high surrogate");
  ExpectRejected(R"("\ud800\n")", "unpaired high surrogate");
  ExpectRejected(R"("\ud800\udc0")", "unpaired high surrogate");
  ExpectRejected(R"("\ud800)", "unpaired high surrogate");
  ExpectRejected(R"("\udc00")", "unpaired low surrogate");
  ExpectRejected(R"("\udfff\ud800")", "unpaired low surrogate");
  ExpectRejected(R"("ab\udc00\ud800")", "at byte 3: unpaired low surrogate");
}

TEST(JsonParse, RejectsOverlongUtf8) {
  for (const std::string& raw : {"\xC0\x80"s, "\xC1\xBF"s, "\xC0\xAF"s, "\xE0\x80\x80"s,
                                 "\xE0\x9F\xBF"s, "\xF0\x80\x80\x80"s, "\xF0\x8F\xBF\xBF"s}) {
    ExpectRejected("\"" + raw + "\"", "at byte 1: invalid UTF-8: overlong encoding");
  }
}

TEST(JsonParse, RejectsUtf8EncodedSurrogates) {
  for (const std::string& raw : {"\xED\xA0\x80"s, "\xED\xAF\xBF"s, "\xED\xB0\x80"s, "\xED\xBF\xBF"s,
                                 "\xED\xA0\xBD\xED\xB8\x80"s /* CESU-8 pair */}) {
    ExpectRejected("\"" + raw + "\"", "invalid UTF-8: encoded surrogate");
  }
}

TEST(JsonParse, RejectsUtf8AboveMaxCodePoint) {
  ExpectRejected("\"\xF4\x90\x80\x80\"", "invalid UTF-8: code point above U+10FFFF");
  ExpectRejected("\"\xF4\xBF\xBF\xBF\"", "code point above U+10FFFF");
  for (const std::string& raw :
       {"\xF5\x80\x80\x80"s, "\xF7\xBF\xBF\xBF"s, "\xF8\x88\x80\x80\x80"s, "\xFE"s, "\xFF"s}) {
    ExpectRejected("\"" + raw + "\"", "never appears in UTF-8");
  }
}

TEST(JsonParse, RejectsTruncatedUtf8) {
  ExpectRejected("\"\xC3\"", "at byte 1: invalid UTF-8: truncated sequence");
  ExpectRejected("\"\xE2\x82\"", "truncated sequence");
  ExpectRejected("\"\xF0\x9F\x98\"", "truncated sequence");
  ExpectRejected(
      "\"\xC3"
      "A\"",
      "truncated sequence");
  ExpectRejected(
      "\"\xE2\x82"
      "A\"",
      "truncated sequence");
  ExpectRejected("\"\xE2\xC3\xA9\"", "truncated sequence");
  ExpectRejected("\"\xC3", "truncated sequence");          // at end of input
  ExpectRejected("\"\xF0\x9F\x98", "truncated sequence");  // at end of input
}

TEST(JsonParse, RejectsStrayContinuationBytes) {
  ExpectRejected("\"\x80\"", "unexpected continuation byte 0x80");
  ExpectRejected("\"\xC3\xA9\xA9\"", "at byte 3: invalid UTF-8: unexpected continuation byte");
  ExpectRejected("\"\xBF\"", "unexpected continuation byte");
}

TEST(JsonParse, RejectsNonAsciiOutsideStrings) {
  ExpectRejected("[1,\xC3\xA9]", "at byte 3: unexpected byte 0xc3");
  ExpectRejected("{\xC3\xA9:1}", "expected a string key");
}

TEST(JsonParse, ErrorsNameTheByteOffset) {
  auto result = ParseJson(R"({"version": 1, "x": [1, 2, oops]})");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().message().rfind("at byte 27: ", 0), 0u) << result.error().message();
}

// ---------------------------------------------------------------------------------------------
// Parsing: limits

TEST(JsonParseLimits, DepthSixtyFourAcceptedByDefault) {
  Json arrays = MustParse(Nested(64, '[', ']'));
  int depth = 0;
  for (const Json* v = &arrays; v->IsArray() && !v->AsArray().empty(); v = &v->AsArray()[0]) {
    ++depth;
  }
  EXPECT_EQ(depth, 63);  // the innermost array is empty
  MustParse(Nested(64, '[', ']', "1"));
  std::string objects;
  for (int i = 0; i < 63; ++i) objects += "{\"a\":";
  objects += "{}" + std::string(63, '}');
  MustParse(objects);
}

TEST(JsonParseLimits, DepthSixtyFiveRejectedByDefault) {
  ExpectRejected(Nested(65, '[', ']'), "at byte 64: nesting deeper than 64 levels",
                 Errc::kTooLarge);
  ExpectRejected(Nested(65, '[', ']', "1"), "nesting deeper", Errc::kTooLarge);
  std::string objects;
  for (int i = 0; i < 64; ++i) objects += "{\"a\":";
  objects += "{}" + std::string(64, '}');
  ExpectRejected(objects, "nesting deeper", Errc::kTooLarge);
  std::string mixed;
  for (int i = 0; i < 33; ++i) mixed += "[{\"k\":";
  ExpectRejected(mixed, "nesting deeper", Errc::kTooLarge);
}

TEST(JsonParseLimits, DepthCountsNestingNotSiblings) {
  std::string wide = "[";
  for (int i = 0; i < 1000; ++i) wide += (i == 0 ? "" : ",") + Nested(63, '[', ']');
  wide += "]";
  MustParse(wide);
}

TEST(JsonParseLimits, CustomDepth) {
  ParseLimits limits;
  limits.max_depth = 2;
  MustParse("[[1],{\"a\":1},[]]", limits);
  ExpectRejected("[[[]]]", "nesting deeper than 2 levels", Errc::kTooLarge, limits);
  limits.max_depth = 0;
  MustParse("\"scalars only\"", limits);
  ExpectRejected("[]", "nesting deeper than 0 levels", Errc::kTooLarge, limits);
}

TEST(JsonParseLimits, HostileDepthFailsWithoutExhaustingTheStack) {
  // A million brackets: a recursive parser would overflow the stack long before the limit
  // check if the check were missing; the limit must stop it early either way.
  ExpectRejected(std::string(1'000'000, '['), "nesting deeper", Errc::kTooLarge);
}

TEST(JsonParseLimits, SizeLimit) {
  ParseLimits limits;
  limits.max_bytes = 10;
  MustParse("1234567890", limits);
  MustParse("  [1,2,3] ", limits);
  ExpectRejected("12345678901", "11 bytes, more than the limit of 10", Errc::kTooLarge, limits);
  // The limit applies to the raw input, before whitespace is skipped.
  ExpectRejected("  [1,2,3]  ", "more than the limit", Errc::kTooLarge, limits);
  limits.max_bytes = 0;
  ExpectRejected("1", "more than the limit", Errc::kTooLarge, limits);
}

TEST(JsonParseLimits, DefaultSizeLimitIsSixteenMebibytes) {
  constexpr std::size_t kLimit = std::size_t{16} * 1024 * 1024;
  std::string big = "\"" + std::string(kLimit - 2, 'x') + "\"";
  ASSERT_EQ(big.size(), kLimit);
  Json value = MustParse(big);
  EXPECT_EQ(value.AsString().size(), kLimit - 2);
  big += " ";
  ExpectRejected(big, "more than the limit", Errc::kTooLarge);
}

TEST(JsonParseLimits, LargeDocumentParses) {
  // A few MiB of TUF-shaped targets metadata, unsorted keys and escapes included. Kept small
  // enough to stay quick under the sanitizers; the 16 MiB limit itself is tested above.
  std::string text = "{\"targets\":{";
  std::size_t count = 0;
  while (text.size() < std::size_t{3} * 1024 * 1024) {
    if (count != 0) text += ",";
    const std::string n = std::to_string(count++);
    text += "\"files/" + n + "/image\\u00e9.bin\":{\"length\":" + n + ",\"hashes\":{\"sha256\":\"" +
            std::string(64, 'a') + "\"},\"custom\":[\"\\\"" + n + "\",true,null]}";
  }
  text += "}}";
  Json value = MustParse(text);
  ASSERT_TRUE(value.IsObject());
  EXPECT_EQ(value.Find("targets")->AsObject().size(), count);
  // Canonical JSON of a large document round-trips too.
  EXPECT_EQ(MustParse(CanonicalJson(value)), value);
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON

TEST(CanonicalJson, SecuresystemslibVectors) {
  EXPECT_EQ(CanonicalJson(Json("")), "\"\"");
  EXPECT_EQ(CanonicalJson(Json::Array{1, 2, 3}), "[1,2,3]");
  EXPECT_EQ(CanonicalJson(Json::Array{}), "[]");
  EXPECT_EQ(CanonicalJson(Json::Object{}), "{}");
  EXPECT_EQ(CanonicalJson(Json::Object{{"A", Json::Array{99}}}), R"({"A":[99]})");
  EXPECT_EQ(CanonicalJson(Json::Object{{"A", true}}), R"({"A":true})");
  EXPECT_EQ(CanonicalJson(Json::Object{{"B", false}}), R"({"B":false})");
  EXPECT_EQ(CanonicalJson(Json::Object{{"y", 2}, {"x", 3}}), R"({"x":3,"y":2})");
  EXPECT_EQ(CanonicalJson(Json::Object{{"x", 3}, {"y", nullptr}}), R"({"x":3,"y":null})");
}

TEST(CanonicalJson, SortsNestedObjectKeysAndDropsWhitespace) {
  Json value = MustParse(R"({
    "signed": {"version": 3, "_type": "root", "keys": {"b2": {"z": 1, "a": 2}, "a1": {}}},
    "signatures": [ {"sig": "ff", "keyid": "01"} ]
  })");
  EXPECT_EQ(CanonicalJson(value),
            R"({"signatures":[{"keyid":"01","sig":"ff"}],)"
            R"("signed":{"_type":"root","keys":{"a1":{},"b2":{"a":2,"z":1}},"version":3}})");
}

TEST(CanonicalJson, KeysSortByUtf8BytesLikePythonCodePoints) {
  Json value = Json::Object{{"\xC3\xA9", 1},
                            {"z", 2},
                            {"Z", 3},
                            {"a", 4},
                            {"aa", 5},
                            {"", 6},
                            {"\xF0\x9F\x98\x80", 7},
                            {"\xEF\xBF\xBF", 8},
                            {"_", 9}};
  EXPECT_EQ(CanonicalJson(value),
            "{\"\":6,\"Z\":3,\"_\":9,\"a\":4,\"aa\":5,\"z\":2,\"\xC3\xA9\":1,\"\xEF\xBF\xBF\":8,"
            "\"\xF0\x9F\x98\x80\":7}");
}

TEST(CanonicalJson, EscapesOnlyQuoteAndBackslash) {
  EXPECT_EQ(CanonicalJson(Json("a\"b\\c")), R"("a\"b\\c")");
  EXPECT_EQ(CanonicalJson(Json("\\\"")), R"("\\\"")");
  EXPECT_EQ(CanonicalJson(Json::Object{{"k\"ey", "v\\"}}), R"({"k\"ey":"v\\"})");
  EXPECT_EQ(CanonicalJson(Json("/")), "\"/\"");  // no \/ escaping
}

TEST(CanonicalJson, UnicodeStaysRaw) {
  EXPECT_EQ(CanonicalJson(MustParse(R"("\u00e9")")), "\"\xC3\xA9\"");
  EXPECT_EQ(CanonicalJson(MustParse(R"("\u2028\u2029")")), "\"\xE2\x80\xA8\xE2\x80\xA9\"");
  EXPECT_EQ(CanonicalJson(MustParse(R"("\ud83d\ude00")")), "\"\xF0\x9F\x98\x80\"");
  EXPECT_EQ(CanonicalJson(Json("caf\xC3\xA9")), "\"caf\xC3\xA9\"");
}

TEST(CanonicalJson, ControlCharactersStayRaw) {
  Json value = MustParse(R"({"a\nb":"\t\u0001\u001f\b\f\r\u0000\u007f"})");
  EXPECT_EQ(CanonicalJson(value), "{\"a\nb\":\"\t\x01\x1f\b\f\r\0\x7f\"}"s);
  // securesystemslib's output is not always valid JSON, and our strict parser says so.
  auto reparsed = ParseJson(CanonicalJson(value));
  ASSERT_FALSE(reparsed.has_value());
  EXPECT_NE(reparsed.error().message().find("raw control character"), std::string::npos);
}

TEST(CanonicalJson, Integers) {
  EXPECT_EQ(CanonicalJson(Json(0)), "0");
  EXPECT_EQ(CanonicalJson(Json(-1)), "-1");
  EXPECT_EQ(CanonicalJson(Json(1234567890)), "1234567890");
  EXPECT_EQ(CanonicalJson(Json(kInt64Max)), "9223372036854775807");
  EXPECT_EQ(CanonicalJson(Json(kInt64Min)), "-9223372036854775808");
}

TEST(CanonicalJson, IsIdempotentOnItsOwnOutput) {
  const std::string text =
      R"({"z":[{"b":1,"a":"\"q\\"},[],{}],"a":{"y":null,"x":false},"m":"\u00e9"})";
  const std::string canonical = CanonicalJson(MustParse(text));
  EXPECT_EQ(CanonicalJson(MustParse(canonical)), canonical);
  EXPECT_EQ(canonical,
            "{\"a\":{\"x\":false,\"y\":null},\"m\":\"\xC3\xA9\",\"z\":[{\"a\":\"\\\"q\\\\\","
            "\"b\":1},[],{}]}");
}

// ---------------------------------------------------------------------------------------------
// DumpJson

TEST(DumpJson, CompactByDefault) {
  Json value = MustParse(R"({ "b" : [1, -2, true, null], "a" : {"x": "y"}, "c": [], "d": {} })");
  EXPECT_EQ(DumpJson(value), R"({"a":{"x":"y"},"b":[1,-2,true,null],"c":[],"d":{}})");
  EXPECT_EQ(DumpJson(Json()), "null");
  EXPECT_EQ(DumpJson(Json(kInt64Min)), "-9223372036854775808");
}

TEST(DumpJson, EscapesLikeStandardJson) {
  EXPECT_EQ(DumpJson(Json("\"\\\b\f\n\r\t")), R"("\"\\\b\f\n\r\t")");
  EXPECT_EQ(DumpJson(Json("\x01\x1f\x0b"s + '\0')), R"("\u0001\u001f\u000b\u0000")");
  EXPECT_EQ(DumpJson(Json("\x7f/")), "\"\x7f/\"");
  EXPECT_EQ(DumpJson(Json("\xC3\xA9\xE2\x80\xA8")), "\"\xC3\xA9\xE2\x80\xA8\"");  // raw UTF-8
  EXPECT_EQ(DumpJson(Json::Object{{"a\nb", 1}}), R"({"a\nb":1})");
}

TEST(DumpJson, NewlineIsRawInCanonicalButEscapedInDump) {
  Json value = Json::Object{{"text", "line1\nline2"}};
  EXPECT_EQ(CanonicalJson(value), "{\"text\":\"line1\nline2\"}");
  EXPECT_EQ(DumpJson(value), R"({"text":"line1\nline2"})");
}

TEST(DumpJson, Pretty) {
  Json value = MustParse(R"({"b":[1,{"c":null}],"a":"x","e":[],"f":{}})");
  EXPECT_EQ(DumpJson(value, /*pretty=*/true),
            "{\n"
            "  \"a\": \"x\",\n"
            "  \"b\": [\n"
            "    1,\n"
            "    {\n"
            "      \"c\": null\n"
            "    }\n"
            "  ],\n"
            "  \"e\": [],\n"
            "  \"f\": {}\n"
            "}");
  EXPECT_EQ(DumpJson(Json(1), true), "1");
  EXPECT_EQ(DumpJson(Json::Array{}, true), "[]");
  EXPECT_EQ(DumpJson(Json::Object{}, true), "{}");
  EXPECT_EQ(DumpJson(Json::Array{"a"}, true), "[\n  \"a\"\n]");
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(JsonRoundTrip, DumpThenParseGivesTheSameValue) {
  for (const char* text : {
           R"(null)",
           R"(0)",
           R"(-9223372036854775808)",
           R"("")",
           R"([])",
           R"({})",
           R"({"a":[1,2,{"b":null}],"c":"\u0000\u001f\"\\\/\b\f\n\r\t","d":true})",
           R"(["\u00e9\u2028\ud83d\ude00","\u007f"])",
           R"({"":{"":{"":[[],[{}]]}}})",
       }) {
    SCOPED_TRACE(text);
    Json value = MustParse(text);
    EXPECT_EQ(MustParse(DumpJson(value)), value);
    EXPECT_EQ(MustParse(DumpJson(value, true)), value);
  }
}

TEST(JsonRoundTrip, EveryByteValueInAString) {
  std::string all_ascii;
  for (int c = 0; c < 0x80; ++c) all_ascii.push_back(static_cast<char>(c));
  Json value = Json::Object{{all_ascii, all_ascii}};
  EXPECT_EQ(MustParse(DumpJson(value)), value);
}

// Random values from a fixed seed: strings from an alphabet with escapes and multi-byte UTF-8,
// nesting up to a few levels.
Json RandomJson(std::mt19937& rng, int depth) {
  static const std::string kPieces[] = {"a",
                                        "Z",
                                        "\"",
                                        "\\",
                                        "\n",
                                        "\x01",
                                        "/",
                                        " ",
                                        "\xC3\xA9",
                                        "\xE2\x80\xA8",
                                        "\xF0\x9F\x98\x80",
                                        "\x7f",
                                        "0"};
  auto pick = [&rng](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  auto random_string = [&] {
    std::string s;
    for (std::size_t i = pick(8); i > 0; --i) s += kPieces[pick(std::size(kPieces))];
    return s;
  };
  switch (pick(depth > 3 ? 4 : 6)) {
    case 0:
      return Json();
    case 1:
      return Json(pick(2) == 0);
    case 2: {
      std::uniform_int_distribution<std::int64_t> dist(kInt64Min, kInt64Max);
      return Json(pick(2) == 0 ? dist(rng) : static_cast<std::int64_t>(pick(100)) - 50);
    }
    case 3:
      return Json(random_string());
    case 4: {
      Json::Array array;
      for (std::size_t i = pick(5); i > 0; --i) array.push_back(RandomJson(rng, depth + 1));
      return array;
    }
    default: {
      Json::Object object;
      for (std::size_t i = pick(5); i > 0; --i)
        object[random_string()] = RandomJson(rng, depth + 1);
      return object;
    }
  }
}

TEST(JsonRoundTrip, RandomValues) {
  std::mt19937 rng(20240611);  // NOLINT(cert-msc32-c,cert-msc51-cpp): reproducible on purpose
  for (int i = 0; i < 2000; ++i) {
    Json value = RandomJson(rng, 0);
    const std::string compact = DumpJson(value);
    auto parsed = ParseJson(compact);
    ASSERT_TRUE(parsed.has_value()) << compact << "\n" << parsed.error().message();
    ASSERT_EQ(*parsed, value) << compact;
    ASSERT_EQ(*ParseJson(DumpJson(value, true)), value);
    // Canonical JSON parses back to the same value whenever it is valid JSON (no raw control
    // characters), and it is a function of the value alone.
    const std::string canonical = CanonicalJson(value);
    auto reparsed = ParseJson(canonical);
    if (reparsed.has_value()) {
      ASSERT_EQ(*reparsed, value) << canonical;
    } else {
      ASSERT_NE(reparsed.error().message().find("raw control character"), std::string::npos)
          << canonical << "\n"
          << reparsed.error().message();
    }
    ASSERT_EQ(CanonicalJson(*parsed), canonical);
  }
}

// ---------------------------------------------------------------------------------------------
// Get* helpers

class JsonGetTest : public ::testing::Test {
 protected:
  Json doc_ = *ParseJson(
      R"({"version":3,"name":"root","ok":true,"keys":{"a":1},"list":[1,2],"nothing":null})");
};

TEST_F(JsonGetTest, ReturnsTypedMembers) {
  EXPECT_EQ(GetInt(doc_, "version").value(), 3);
  EXPECT_EQ(GetString(doc_, "name").value(), "root");
  EXPECT_TRUE(GetBool(doc_, "ok").value());
  const Json::Object* keys = GetObject(doc_, "keys").value();
  EXPECT_EQ(keys->size(), 1u);
  const Json::Array* list = GetArray(doc_, "list").value();
  EXPECT_EQ(list->size(), 2u);
  const Json* nothing = GetMember(doc_, "nothing", Json::Kind::kNull).value();
  EXPECT_TRUE(nothing->IsNull());
  EXPECT_EQ(GetMember(doc_, "version", Json::Kind::kInt).value(), doc_.Find("version"));
}

TEST_F(JsonGetTest, MissingField) {
  auto result = GetInt(doc_, "expires");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "missing field 'expires'");
  EXPECT_EQ(GetString(doc_, "x").error().message(), "missing field 'x'");
  EXPECT_EQ(GetBool(doc_, "x").error().message(), "missing field 'x'");
  EXPECT_EQ(GetObject(doc_, "x").error().message(), "missing field 'x'");
  EXPECT_EQ(GetArray(doc_, "x").error().message(), "missing field 'x'");
  EXPECT_EQ(GetMember(doc_, "x", Json::Kind::kNull).error().message(), "missing field 'x'");
}

TEST_F(JsonGetTest, WrongKind) {
  auto result = GetInt(doc_, "name");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(result.error().message(), "field 'name' must be an integer, not a string");
  EXPECT_EQ(GetString(doc_, "version").error().message(),
            "field 'version' must be a string, not an integer");
  EXPECT_EQ(GetBool(doc_, "nothing").error().message(),
            "field 'nothing' must be a boolean, not null");
  EXPECT_EQ(GetObject(doc_, "list").error().message(),
            "field 'list' must be an object, not an array");
  EXPECT_EQ(GetArray(doc_, "keys").error().message(),
            "field 'keys' must be an array, not an object");
  EXPECT_EQ(GetMember(doc_, "ok", Json::Kind::kNull).error().message(),
            "field 'ok' must be null, not a boolean");
}

TEST_F(JsonGetTest, NotAnObject) {
  for (const Json& value : {Json(), Json(1), Json("s"), Json(Json::Array{})}) {
    auto result = GetInt(value, "version");
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(result.error().message().find("field 'version'"), std::string::npos)
        << result.error().message();
    EXPECT_NE(result.error().message().find("only from an object"), std::string::npos);
  }
  EXPECT_EQ(GetString(Json(Json::Array{}), "a").error().message(),
            "cannot read field 'a' from an array, only from an object");
}

}  // namespace
}  // namespace aloft::core::codec
