// The strict JSON parser. It is the first code to see bytes from the network, so:
//  - it is iterative: nesting lives in an explicit stack bounded by ParseLimits::max_depth,
//    never in the call stack, so hostile input cannot overflow it;
//  - it checks the size limit before looking at a single byte;
//  - strings are copied in runs (one append per run of plain bytes, not per character), and
//    UTF-8 is validated in place, so a 16 MiB document parses in tens of milliseconds.

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/codec/json.hpp"

namespace aloft::core::codec {
namespace {

// What a byte means inside a string literal.
enum class StringByte : std::uint8_t {
  kPlain,      // printable ASCII other than '"' and '\\': copied as is
  kQuote,      // '"' ends the string
  kBackslash,  // starts an escape
  kControl,    // 0x00-0x1F must be escaped (RFC 8259 section 7)
  kNonAscii,   // 0x80-0xFF: must start a valid UTF-8 sequence
};

constexpr std::array<StringByte, 256> MakeStringByteTable() {
  std::array<StringByte, 256> table{};
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (i < 0x20) {
      table[i] = StringByte::kControl;
    } else if (i == '"') {
      table[i] = StringByte::kQuote;
    } else if (i == '\\') {
      table[i] = StringByte::kBackslash;
    } else if (i >= 0x80) {
      table[i] = StringByte::kNonAscii;
    } else {
      table[i] = StringByte::kPlain;
    }
  }
  return table;
}
constexpr std::array<StringByte, 256> kStringByte = MakeStringByteTable();

constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string HexByte(unsigned char b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string{'0', 'x', kDigits[b >> 4], kDigits[b & 0x0f]};
}

// Untrusted bytes for an error message: printable ASCII as is, the rest as \xHH, and cut
// short so that a hostile 16 MiB key does not become a 16 MiB log line.
std::string Printable(std::string_view s) {
  constexpr std::size_t kMaxShown = 64;
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out.push_back(s[i]);
    } else {
      out += "\\x";
      out += HexByte(b).substr(2);
    }
  }
  out += s.size() > kMaxShown ? "'..." : "'";
  return out;
}

void AppendUtf8(std::uint32_t cp, std::string& out) {
  // Precondition: cp <= 0x10FFFF and not a surrogate (the caller decoded it from \u escapes).
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  Parser(std::string_view text, const ParseLimits& limits) : text_(text), limits_(limits) {}

  Result<Json> Run() {
    if (text_.size() > limits_.max_bytes) {
      return Fail(Errc::kTooLarge, "JSON input is " + std::to_string(text_.size()) +
                                       " bytes, more than the limit of " +
                                       std::to_string(limits_.max_bytes));
    }
    Json root;
    if (!ParseDocument(root)) return Fail(code_, std::move(message_));
    return root;
  }

 private:
  // An open array or object; `value` points into its parent (or is the root), and stays valid
  // because a parent container is never modified while one of its children is open.
  struct Frame {
    Json* value;
    bool is_object;
  };

  [[nodiscard]] bool AtEnd() const { return pos_ == text_.size(); }
  [[nodiscard]] unsigned char ByteAt(std::size_t i) const {
    return static_cast<unsigned char>(text_[i]);
  }

  void SkipWhitespace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
      ++pos_;
    }
  }

  // Records the error and returns false, so callers can write `return Reject(...)`.
  bool Reject(std::size_t offset, std::string_view what, Errc code = Errc::kInvalidArgument) {
    code_ = code;
    message_ = "at byte " + std::to_string(offset) + ": ";
    message_ += what;
    return false;
  }

  // The byte at pos_, for "unexpected ..." messages.
  [[nodiscard]] std::string DescribeNext() const {
    if (AtEnd()) return "end of input";
    const unsigned char b = ByteAt(pos_);
    if (b > 0x20 && b < 0x7f) return std::string("character '") + static_cast<char>(b) + "'";
    return "byte " + HexByte(b);
  }

  bool Unexpected(std::string_view context) {
    if (pos_ == 0 && text_.substr(0, 3) == "\xEF\xBB\xBF") {
      return Reject(0, "byte order mark is not allowed");
    }
    return Reject(pos_, "unexpected " + DescribeNext() + std::string(context));
  }

  bool ParseDocument(Json& root) {
    std::vector<Frame> stack;
    // Small: most documents nest a few levels, and a 1 KiB reservation (64 frames) was a
    // large-bin allocation that made glibc consolidate its fast bins on every parse.
    stack.reserve(std::min<std::size_t>(limits_.max_depth, 8));
    Json* slot = &root;
    for (;;) {
      // Invariant: *slot is a null Json, and the next value in the input goes into it.
      SkipWhitespace();
      if (AtEnd()) return Reject(pos_, "unexpected end of input, expected a value");
      const char c = text_[pos_];
      if (c == '[' || c == '{') {
        if (stack.size() >= limits_.max_depth) {
          return Reject(pos_,
                        "nesting deeper than " + std::to_string(limits_.max_depth) + " levels",
                        Errc::kTooLarge);
        }
        const bool is_object = c == '{';
        ++pos_;
        if (is_object) {
          *slot = Json::Object();
        } else {
          *slot = Json::Array();
        }
        SkipWhitespace();
        if (!AtEnd() && text_[pos_] == (is_object ? '}' : ']')) {
          ++pos_;  // empty: the container is already complete
        } else {
          stack.push_back({slot, is_object});
          slot = is_object ? StartMember(slot->AsObject()) : &slot->AsArray().emplace_back();
          if (slot == nullptr) return false;
          continue;
        }
      } else if (!ParseScalar(*slot)) {
        return false;
      }

      // A value is complete. Close every container that ends here, then either move on to the
      // next element of the innermost open container or finish the document.
      for (;;) {
        SkipWhitespace();
        if (stack.empty()) {
          if (!AtEnd()) return Unexpected(" after the JSON value");
          return true;
        }
        const Frame top = stack.back();
        if (AtEnd()) {
          return Reject(pos_, top.is_object ? "unexpected end of input, expected ',' or '}'"
                                            : "unexpected end of input, expected ',' or ']'");
        }
        const char next = text_[pos_];
        if (next == ',') {
          ++pos_;
          slot = top.is_object ? StartMember(top.value->AsObject())
                               : &top.value->AsArray().emplace_back();
          if (slot == nullptr) return false;
          break;
        }
        if (next != (top.is_object ? '}' : ']')) {
          return Unexpected(top.is_object ? ", expected ',' or '}'" : ", expected ',' or ']'");
        }
        ++pos_;
        stack.pop_back();
      }
    }
  }

  // Parses `"key" :` and inserts the key with a null value; returns where the value goes, or
  // nullptr on error. Duplicates are compared after unescaping, so {"a":1,"\u0061":2} fails.
  Json* StartMember(Json::Object& object) {
    SkipWhitespace();
    if (AtEnd() || text_[pos_] != '"') {
      Unexpected(", expected a string key");
      return nullptr;
    }
    const std::size_t key_offset = pos_;
    std::string key;
    if (!ParseString(key)) return nullptr;
    Json::Object::iterator it;
    if (object.empty() || object.rbegin()->first < key) {
      // Keys usually arrive sorted (canonical JSON is), so appending at the end is O(1).
      it = object.emplace_hint(object.end(), std::move(key), Json());
    } else {
      auto [found, inserted] = object.try_emplace(std::move(key));
      if (!inserted) {
        Reject(key_offset, "duplicate key " + Printable(found->first));
        return nullptr;
      }
      it = found;
    }
    SkipWhitespace();
    if (AtEnd() || text_[pos_] != ':') {
      Unexpected(", expected ':' after an object key");
      return nullptr;
    }
    ++pos_;
    return &it->second;
  }

  bool ParseScalar(Json& out) {
    const char c = text_[pos_];
    switch (c) {
      case '"': {
        std::string s;
        if (!ParseString(s)) return false;
        out = std::move(s);
        return true;
      }
      case 't':
        return ParseLiteral("true", true, out);
      case 'f':
        return ParseLiteral("false", false, out);
      case 'n':
        return ParseLiteral("null", nullptr, out);
      default:
        if (c == '-' || IsDigit(c)) return ParseInteger(out);
        return Unexpected(", expected a value");
    }
  }

  bool ParseLiteral(std::string_view word, Json value, Json& out) {
    if (text_.substr(pos_, word.size()) != word) return Reject(pos_, "invalid literal");
    pos_ += word.size();
    out = std::move(value);
    return true;
  }

  // -?(0|[1-9][0-9]*), within int64. Fractions and exponents are refused outright: TUF has
  // no use for them and canonical JSON cannot encode them.
  bool ParseInteger(Json& out) {
    const std::size_t start = pos_;
    const bool negative = text_[pos_] == '-';
    if (negative) ++pos_;
    if (AtEnd() || !IsDigit(text_[pos_])) return Reject(start, "'-' must be followed by a digit");
    // The magnitude is accumulated unsigned so that INT64_MIN (magnitude 2^63) fits.
    const std::uint64_t limit =
        negative ? std::uint64_t{1} << 63
                 : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    std::uint64_t magnitude = 0;
    if (text_[pos_] == '0') {
      ++pos_;
      if (!AtEnd() && IsDigit(text_[pos_])) return Reject(start, "leading zeros are not allowed");
    } else {
      while (!AtEnd() && IsDigit(text_[pos_])) {
        const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
        if (magnitude > (limit - digit) / 10) return Reject(start, "integer out of range");
        magnitude = magnitude * 10 + digit;
        ++pos_;
      }
    }
    if (!AtEnd() && (text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E')) {
      return Reject(start, "non-integer numbers are not supported");
    }
    if (!negative) {
      out = static_cast<std::int64_t>(magnitude);
    } else if (magnitude == limit) {
      out = std::numeric_limits<std::int64_t>::min();
    } else {
      out = -static_cast<std::int64_t>(magnitude);  // -0 becomes 0
    }
    return true;
  }

  // pos_ is at the opening quote. Appends the unescaped contents to `out`.
  bool ParseString(std::string& out) {
    const std::size_t open = pos_;
    ++pos_;
    std::size_t run = pos_;  // start of the bytes not yet copied to `out`
    for (;;) {
      // The hot loop: skip plain ASCII without touching `out`.
      while (pos_ < text_.size() && kStringByte[ByteAt(pos_)] == StringByte::kPlain) ++pos_;
      if (AtEnd()) {
        return Reject(pos_, "unterminated string (opened at byte " + std::to_string(open) + ")");
      }
      switch (kStringByte[ByteAt(pos_)]) {
        case StringByte::kPlain:  // not reached: the loop above consumed it
          break;
        case StringByte::kQuote:
          out.append(text_, run, pos_ - run);
          ++pos_;
          return true;
        case StringByte::kBackslash:
          out.append(text_, run, pos_ - run);
          if (!ParseEscape(out)) return false;
          run = pos_;
          break;
        case StringByte::kControl:
          return Reject(pos_, "raw control character " + HexByte(ByteAt(pos_)) +
                                  " in a string (it must be escaped)");
        case StringByte::kNonAscii:
          if (!SkipUtf8Sequence()) return false;  // valid UTF-8 is copied as part of the run
          break;
      }
    }
  }

  // pos_ is at a byte >= 0x80. Checks one UTF-8 sequence against RFC 3629 / Unicode table 3-7
  // and steps over it.
  bool SkipUtf8Sequence() {
    const std::size_t start = pos_;
    const unsigned char lead = ByteAt(pos_);
    std::size_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    const char* second_error = "";
    if (lead < 0xC0) {
      return Reject(start, "invalid UTF-8: unexpected continuation byte " + HexByte(lead));
    } else if (lead < 0xC2) {
      return Reject(start, "invalid UTF-8: overlong encoding");
    } else if (lead < 0xE0) {
      length = 2;
    } else if (lead < 0xF0) {
      length = 3;
      if (lead == 0xE0) {
        second_min = 0xA0;
        second_error = "invalid UTF-8: overlong encoding";
      } else if (lead == 0xED) {
        second_max = 0x9F;
        second_error = "invalid UTF-8: encoded surrogate (U+D800-U+DFFF)";
      }
    } else if (lead < 0xF5) {
      length = 4;
      if (lead == 0xF0) {
        second_min = 0x90;
        second_error = "invalid UTF-8: overlong encoding";
      } else if (lead == 0xF4) {
        second_max = 0x8F;
        second_error = "invalid UTF-8: code point above U+10FFFF";
      }
    } else {
      return Reject(start, "invalid UTF-8: byte " + HexByte(lead) + " never appears in UTF-8");
    }
    for (std::size_t i = 1; i < length; ++i) {
      if (start + i >= text_.size()) return Reject(start, "invalid UTF-8: truncated sequence");
      const unsigned char b = ByteAt(start + i);
      if (b < 0x80 || b > 0xBF) return Reject(start, "invalid UTF-8: truncated sequence");
      if (i == 1 && (b < second_min || b > second_max)) return Reject(start, second_error);
    }
    pos_ = start + length;
    return true;
  }

  // Four hex digits at `at`, or -1.
  [[nodiscard]] std::int32_t Hex4(std::size_t at) const {
    if (text_.size() - at < 4) return -1;
    std::int32_t value = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const int digit = HexValue(text_[at + i]);
      if (digit < 0) return -1;
      value = value * 16 + digit;
    }
    return value;
  }

  // pos_ is at a backslash inside a string.
  bool ParseEscape(std::string& out) {
    const std::size_t start = pos_;
    if (text_.size() - pos_ < 2) return Reject(start, "unterminated escape sequence");
    const char c = text_[pos_ + 1];
    pos_ += 2;
    switch (c) {
      case '"':
        out.push_back('"');
        return true;
      case '\\':
        out.push_back('\\');
        return true;
      case '/':
        out.push_back('/');
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        return Reject(start, "invalid escape sequence '\\" +
                                 (static_cast<unsigned char>(c) >= 0x20 &&
                                          static_cast<unsigned char>(c) < 0x7f
                                      ? std::string(1, c)
                                      : HexByte(static_cast<unsigned char>(c))) +
                                 "'");
    }
    const std::int32_t unit = Hex4(pos_);
    if (unit < 0) return Reject(start, "\\u must be followed by four hex digits");
    pos_ += 4;
    auto cp = static_cast<std::uint32_t>(unit);
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Reject(start, "unpaired low surrogate in \\u escape");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed at once by an escaped low surrogate.
      const std::int32_t low = text_.substr(pos_, 2) == "\\u" ? Hex4(pos_ + 2) : std::int32_t{-1};
      if (low < 0xDC00 || low > 0xDFFF) {
        return Reject(start, "unpaired high surrogate in \\u escape");
      }
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<std::uint32_t>(low) - 0xDC00);
    }
    AppendUtf8(cp, out);
    return true;
  }

  std::string_view text_;
  const ParseLimits& limits_;
  std::size_t pos_ = 0;
  Errc code_ = Errc::kInvalidArgument;
  std::string message_;
};

}  // namespace

Result<Json> ParseJson(std::string_view text, const ParseLimits& limits) {
  return Parser(text, limits).Run();
}

}  // namespace aloft::core::codec
