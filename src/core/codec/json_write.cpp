// The two writers. Canonical JSON must match securesystemslib's encode_canonical byte for
// byte, because those are the bytes TUF signatures cover:
//
//   def _canonical_string_encoder(string):
//       return '"%s"' % string.replace('\\', '\\\\').replace('"', '\\"')
//
// and dicts are written with sorted(items), "," and ":" separators, no whitespace. Both writers
// recurse; that is fine because parsed values are bounded by ParseLimits::max_depth and values
// built in code are shallow.

#include <charconv>
#include <cstdint>
#include <string>

#include "core/codec/json.hpp"

namespace aloft::core::codec {
namespace {

void AppendInt(std::int64_t v, std::string& out) {
  char buffer[24];  // "-9223372036854775808" is 20 characters
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), v);
  out.append(buffer, result.ptr);
}

// '"' + s with only '"' and '\\' escaped + '"'. Control characters and UTF-8 stay raw.
void AppendCanonicalString(std::string_view s, std::string& out) {
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' || c == '\\') {
      out.append(s, run, i - run);
      out.push_back('\\');
      out.push_back(c);
      run = i + 1;
    }
  }
  out.append(s, run, s.size() - run);
  out.push_back('"');
}

void WriteCanonical(const Json& value, std::string& out) {
  switch (value.kind()) {
    case Json::Kind::kNull:
      out += "null";
      return;
    case Json::Kind::kBool:
      out += value.AsBool() ? "true" : "false";
      return;
    case Json::Kind::kInt:
      AppendInt(value.AsInt(), out);
      return;
    case Json::Kind::kString:
      AppendCanonicalString(value.AsString(), out);
      return;
    case Json::Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const Json& element : value.AsArray()) {
        if (!first) out.push_back(',');
        first = false;
        WriteCanonical(element, out);
      }
      out.push_back(']');
      return;
    }
    case Json::Kind::kObject: {
      // std::map orders keys by unsigned byte comparison, which for valid UTF-8 is the code
      // point order Python's sorted() uses.
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : value.AsObject()) {
        if (!first) out.push_back(',');
        first = false;
        AppendCanonicalString(key, out);
        out.push_back(':');
        WriteCanonical(member, out);
      }
      out.push_back('}');
      return;
    }
  }
}

// The escape for a byte in ordinary JSON, or nullptr when it is written raw.
const char* DumpEscape(unsigned char b) {
  switch (b) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

void AppendDumpString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b != '"' && b != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    if (const char* escape = DumpEscape(b)) {
      out += escape;
    } else {
      const char u[] = {'\\', 'u', '0', '0', kHex[b >> 4], kHex[b & 0x0f]};
      out.append(u, sizeof(u));
    }
  }
  out.append(s, run, s.size() - run);
  out.push_back('"');
}

class Dumper {
 public:
  Dumper(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}

  void Write(const Json& value) {
    switch (value.kind()) {
      case Json::Kind::kNull:
        out_ += "null";
        return;
      case Json::Kind::kBool:
        out_ += value.AsBool() ? "true" : "false";
        return;
      case Json::Kind::kInt:
        AppendInt(value.AsInt(), out_);
        return;
      case Json::Kind::kString:
        AppendDumpString(value.AsString(), out_);
        return;
      case Json::Kind::kArray: {
        const Json::Array& array = value.AsArray();
        if (array.empty()) {
          out_ += "[]";
          return;
        }
        out_.push_back('[');
        ++depth_;
        bool first = true;
        for (const Json& element : array) {
          if (!first) out_.push_back(',');
          first = false;
          NewLine();
          Write(element);
        }
        --depth_;
        NewLine();
        out_.push_back(']');
        return;
      }
      case Json::Kind::kObject: {
        const Json::Object& object = value.AsObject();
        if (object.empty()) {
          out_ += "{}";
          return;
        }
        out_.push_back('{');
        ++depth_;
        bool first = true;
        for (const auto& [key, member] : object) {
          if (!first) out_.push_back(',');
          first = false;
          NewLine();
          AppendDumpString(key, out_);
          out_ += pretty_ ? ": " : ":";
          Write(member);
        }
        --depth_;
        NewLine();
        out_.push_back('}');
        return;
      }
    }
  }

 private:
  // In pretty mode, a line break and two spaces per open container; nothing otherwise.
  void NewLine() {
    if (!pretty_) return;
    out_.push_back('\n');
    out_.append(2 * depth_, ' ');
  }

  std::string& out_;
  const bool pretty_;
  std::size_t depth_ = 0;
};

}  // namespace

std::string CanonicalJson(const Json& value) {
  std::string out;
  WriteCanonical(value, out);
  return out;
}

std::string DumpJson(const Json& value, bool pretty) {
  std::string out;
  Dumper(out, pretty).Write(value);
  return out;
}

}  // namespace aloft::core::codec
