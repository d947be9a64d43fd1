// aloft-interop-tool: Aloft's half of the interoperability vectors with securesystemslib
// (tests/interop/securesystemslib_vectors.py is the other half; run_interop.sh runs both).
//
//   aloft-interop-tool verify VECTORS.json   checks vectors that securesystemslib produced
//   aloft-interop-tool emit OUT.json         writes vectors produced by libaloft_core
//
// The vectors file (the same shape in both directions):
//
//   {"producer": "...",
//    "canonical": [{"name": str, "input": <JSON text>, "canonical": <its canonical JSON>}],
//    "keys": [{"name": str, "key": <TUF key object>, "keyid": <hex>,
//              "message": <hex>, "signature": <hex>}],
//    "root": {"metadata": <text of a root.json, as a repository serves it>,
//             "signed_canonical": <canonical JSON of its "signed" object>}}
//
// "keyid" is TUF's key ID as python-tuf computes it: hex SHA-256 of the canonical JSON of
// {"keytype", "scheme", "keyval": {"public"}} (PublicKey::ComputeKeyId). The root has
// ed25519, ECDSA and RSA root keys with threshold 3, one signature from each.
//
// verify prints one line per check, "ok   ..." or "FAIL ...: detail", and exits 1 if any
// check failed. emit also checks its root with our own verifier, and exits 1 (after writing
// the vectors) if that fails. Exit status 2 means the tool could not run at all (usage,
// unreadable or malformed vectors file, key generation or signing failed).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/hex.hpp"
#include "core/base/result.hpp"
#include "core/base/time.hpp"
#include "core/codec/json.hpp"
#include "core/crypto/hash.hpp"
#include "core/crypto/keys.hpp"
#include "core/metadata/model.hpp"
#include "core/metadata/trusted_set.hpp"

namespace {

namespace codec = aloft::core::codec;
namespace crypto = aloft::core::crypto;
namespace metadata = aloft::core::metadata;
using aloft::Bytes;
using aloft::ByteView;
using aloft::Errc;
using aloft::Result;
using aloft::Status;
using codec::Json;

constexpr const char* kUsage =
    "usage: aloft-interop-tool verify VECTORS.json | emit OUT.json\n"
    "  verify  check vectors written by securesystemslib_vectors.py emit\n"
    "  emit    write vectors for securesystemslib_vectors.py verify\n";

// The root vectors are signed by one key of each type, all needed.
constexpr std::int64_t kRootThreshold = 3;

// A string as a JSON literal, so that control characters in a mismatch report stay visible.
std::string Quote(std::string_view s) { return codec::DumpJson(Json(s)); }

// Counts checks and prints one line each.
class Checker {
 public:
  void Check(bool ok, std::string_view what, std::string_view detail = {}) {
    ++total_;
    if (!ok) ++failed_;
    std::cout << (ok ? "ok   " : "FAIL ") << what;
    if (!detail.empty()) std::cout << ": " << detail;
    std::cout << '\n';
  }
  // Passes when `status` is Ok(); its error is the detail otherwise.
  void CheckOk(const Status& status, std::string_view what) {
    Check(status.has_value(), what, status ? std::string() : status.error().ToString());
  }
  // Passes when our bytes equal securesystemslib's; shows both (as JSON literals) otherwise.
  void CheckSame(std::string_view ours, std::string_view theirs, std::string_view what) {
    Check(ours == theirs, what,
          ours == theirs ? std::string()
                         : "aloft " + Quote(ours) + ", securesystemslib " + Quote(theirs));
  }
  int total() const { return total_; }
  int failed() const { return failed_; }

 private:
  int total_ = 0;
  int failed_ = 0;
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return aloft::Fail(Errc::kIo, "cannot open " + path);
  const std::streamoff size = in.tellg();
  if (size < 0) return aloft::Fail(Errc::kIo, "cannot size " + path);
  std::string text(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(size));
  if (!in) return aloft::Fail(Errc::kIo, "cannot read " + path);
  return text;
}

Status WriteFile(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return aloft::Fail(Errc::kIo, "cannot write " + path);
  return aloft::Ok();
}

// The same two corruptions the python side makes: one bit of the signature flipped (in the
// middle, so that DER framing usually stays intact), and the message changed by one bit (or
// one byte added to an empty message).
Bytes FlipOneBit(Bytes signature) {
  if (!signature.empty()) signature[signature.size() / 2] ^= 0x01;
  return signature;
}
Bytes ChangeMessage(Bytes message) {
  if (message.empty()) {
    message.push_back(0);
  } else {
    message[0] ^= 0x01;
  }
  return message;
}

std::string ShortId(std::string_view keyid) { return std::string(keyid.substr(0, 16)); }

// --- verify ----------------------------------------------------------------------------------

// (a) ParseJson(input) then CanonicalJson must give securesystemslib's bytes exactly.
void VerifyCanonical(const Json::Array& vectors, Checker& checker) {
  for (const Json& v : vectors) {
    auto name = codec::GetString(v, "name");
    auto input = codec::GetString(v, "input");
    auto theirs = codec::GetString(v, "canonical");
    if (!name || !input || !theirs) {
      checker.Check(false, "canonical vector", "malformed: needs name, input and canonical");
      continue;
    }
    const std::string what = "canonical " + *name;
    auto parsed = codec::ParseJson(*input);
    if (!parsed) {
      checker.Check(false, what, "ParseJson rejects it: " + parsed.error().ToString());
      continue;
    }
    checker.CheckSame(codec::CanonicalJson(*parsed), *theirs, what);
  }
}

// (b) The key parses, has securesystemslib's key ID, and verifies exactly the right signature.
void VerifyKeys(const Json::Array& vectors, Checker& checker) {
  for (const Json& v : vectors) {
    auto name = codec::GetString(v, "name");
    auto key_json = codec::GetMember(v, "key", Json::Kind::kObject);
    auto keyid = codec::GetString(v, "keyid");
    auto message_hex = codec::GetString(v, "message");
    auto signature_hex = codec::GetString(v, "signature");
    if (!name || !key_json || !keyid || !message_hex || !signature_hex) {
      checker.Check(false, "key vector", "malformed: needs name, key, keyid, message, signature");
      continue;
    }
    const std::string what = "key " + *name;
    auto message = aloft::HexDecode(*message_hex);
    auto signature = aloft::HexDecode(*signature_hex);
    if (!message || !signature) {
      checker.Check(false, what, "message or signature is not hex");
      continue;
    }
    auto key = crypto::PublicKey::FromTufJson(**key_json);
    if (!key) {
      checker.Check(false, what + ": PublicKey::FromTufJson", key.error().ToString());
      continue;
    }
    checker.CheckSame(key->ComputeKeyId(), *keyid, what + ": keyid");
    checker.CheckOk(key->Verify(*message, *signature), what + ": signature verifies");
    checker.Check(!key->Verify(*message, FlipOneBit(*signature)),
                  what + ": signature with a flipped bit is rejected");
    checker.Check(!key->Verify(ChangeMessage(*message), *signature),
                  what + ": signature over a changed message is rejected");
  }
}

// (c) TrustedSet accepts the threshold-3 root, and rejects it with any one signature removed.
void VerifyRoot(const Json& root, Checker& checker) {
  auto text = codec::GetString(root, "metadata");
  if (!text) {
    checker.Check(false, "root vector", "malformed: needs metadata");
    return;
  }
  const ByteView bytes = aloft::AsBytes(*text);
  // Create does not check expiry; "now" is what a device loading a shipped root would pass.
  const aloft::Timestamp now =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());

  auto parsed = metadata::ParseRoot(bytes);
  if (!parsed) {
    checker.Check(false, "root: ParseRoot", parsed.error().ToString());
    return;
  }
  if (auto theirs = codec::GetString(root, "signed_canonical")) {
    checker.CheckSame(parsed->canonical, *theirs, "root: canonical bytes of 'signed'");
  }
  for (const auto& [keyid, listed] : parsed->content.keys) {
    const std::string what = "root: key " + ShortId(keyid) + "...";
    if (!listed.key) {
      checker.Check(false, what + " is usable", "PublicKey::FromTufJson rejected it");
      continue;
    }
    checker.Check(listed.key->ComputeKeyId() == keyid,
                  what + " (" + listed.key->keytype() + ") is listed under its keyid");
  }
  const auto role = parsed->content.roles.find(metadata::kRoot);
  const std::int64_t threshold = role == parsed->content.roles.end() ? 0 : role->second.threshold;
  checker.Check(threshold == kRootThreshold, "root: root role threshold is 3",
                "threshold " + std::to_string(threshold));

  auto trusted = metadata::TrustedSet::Create(bytes, now);
  checker.Check(trusted.has_value(), "root: TrustedSet::Create accepts it",
                trusted ? std::string() : trusted.error().ToString());

  // Without any one of the signatures, the threshold is out of reach.
  auto envelope = codec::ParseJson(*text);
  if (!envelope || !envelope->IsObject() || envelope->Find("signatures") == nullptr ||
      !envelope->Find("signatures")->IsArray()) {
    checker.Check(false, "root: envelope", "no 'signatures' array");
    return;
  }
  const std::size_t count = envelope->Find("signatures")->AsArray().size();
  checker.Check(count == static_cast<std::size_t>(kRootThreshold),
                "root: one signature per root key", std::to_string(count) + " signatures");
  for (std::size_t i = 0; i < count; ++i) {
    Json fewer = *envelope;
    Json::Array& sigs = fewer["signatures"].AsArray();
    const Json* id = sigs[i].Find("keyid");
    const std::string removed = id != nullptr && id->IsString() ? ShortId(id->AsString()) : "?";
    sigs.erase(sigs.begin() + static_cast<std::ptrdiff_t>(i));
    // Plain JSON, as the other side served the original (PEM newlines escaped).
    const std::string fewer_bytes = codec::DumpJson(fewer);
    auto r = metadata::TrustedSet::Create(aloft::AsBytes(fewer_bytes), now);
    checker.Check(!r && r.error().code() == Errc::kVerificationFailed,
                  "root: without the signature of " + removed + "... it is rejected",
                  r ? "accepted" : r.error().ToString());
  }
}

int Verify(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) {
    std::cerr << "aloft-interop-tool: " << text.error().ToString() << '\n';
    return 2;
  }
  auto vectors = codec::ParseJson(*text);
  if (!vectors) {
    std::cerr << "aloft-interop-tool: " << path << ": " << vectors.error().ToString() << '\n';
    return 2;
  }
  auto producer = codec::GetString(*vectors, "producer");
  auto canonical = codec::GetArray(*vectors, "canonical");
  auto keys = codec::GetArray(*vectors, "keys");
  auto root = codec::GetMember(*vectors, "root", Json::Kind::kObject);
  if (!canonical || !keys || !root) {
    std::cerr << "aloft-interop-tool: " << path
              << ": needs 'canonical' and 'keys' arrays and a 'root' object\n";
    return 2;
  }
  std::cout << "verify: vectors from " << (producer ? *producer : std::string("?")) << '\n';
  Checker checker;
  VerifyCanonical(**canonical, checker);
  VerifyKeys(**keys, checker);
  VerifyRoot(**root, checker);
  // Empty vector lists would make every loop above pass vacuously.
  checker.Check(!(*canonical)->empty() && !(*keys)->empty(), "vectors file is not empty");
  std::cout << "verify: " << checker.total() - checker.failed() << '/' << checker.total()
            << " checks passed\n";
  return checker.failed() == 0 ? 0 : 1;
}

// --- emit ------------------------------------------------------------------------------------

struct TextVector {
  const char* name;
  std::string input;
};

// JSON texts whose canonical form is easy to get wrong: escaping only '"' and '\\', raw
// control characters and UTF-8 (from \u escapes and from raw bytes), keys sorted by code
// point (UTF-8 byte order, not UTF-16 order: U+1F680 sorts after U+FFFF), int64 extremes,
// "-0", empty containers, deep nesting, and a TUF-shaped document.
std::vector<TextVector> CanonicalInputs() {
  std::vector<TextVector> inputs = {
      {"unsorted-nested", R"({"b":1,"a":{"z":[3,2,1],"y":{"d":null,"c":true}},"0":false})"},
      {"whitespace", " \t\n{ \"b\" :\r\n[ 1 , 2 ] ,\"a\":{ } }\n "},
      {"quotes-backslashes", R"(["\"", "\\", "\\\"", "\"\\", "say \"hi\"\\n", "\/", "\\u0041"])"},
      {"short-escapes", R"("\b\f\n\r\t\"\\\/")"},
      {"control-chars", R"("\u0000\u0001\u0007\u000b\u000E\u001b\u001f\u007f")"},
      {"unicode-escaped",
       R"(["\u00e9", "\u00DF", "\u4e2d\u6587", "\ud83d\ude00\uD83D\uDE80", "\u2028\u2029",)"
       R"( "\ufeff", "\ud7ff\ue000\uffff", "\udbff\udfff", "a\u0301"])"},
      // é, 中, U+1F680, U+10FFFF, U+2028 written as raw UTF-8 bytes.
      {"unicode-raw",
       "[\"\xc3\xa9\", \"\xe4\xb8\xad\", \"\xf0\x9f\x9a\x80\", \"\xf4\x8f\xbf\xbf\", "
       "\"\xe2\x80\xa8\"]"},
      {"unicode-keys",
       R"({"z":1,"\u00e9":2,"e":3,"\ud83d\ude80":4,"\uffff":5,"\uff41":6,"A":7,"":8,)"
       R"("\u007f":9,"\u0080":10,"\u00e9\u0000":11})"},
      {"big-ints",
       "[0, -0, 1, -1, 2147483648, -2147483649, 9007199254740993, 9223372036854775807, "
       "-9223372036854775808]"},
      {"empty-containers", R"({"a":[],"o":{},"s":"","n":[[],[{}],{"x":[]}]})"},
      {"literals", R"([null,true,false,[null],{"null":null}])"},
      {"scalar-string", R"("top-level \"quoted\" \\ string")"},
      {"scalar-int", "-9223372036854775808"},
      {"scalar-null", " null "},
      {"empty-object", "{}"},
      {"empty-array", "[ ]"},
      {"tuf-targets",
       R"({"signed":{"version":7,"targets":{"fw/\u00fc.bin":{"length":0,"hashes":{"sha256":)"
       R"("00"}},"fw/app.bin":{"length":1048576,"hashes":{"sha512":"cd","sha256":"ab"},)"
       R"("custom":{"note":"na\u00efve \"rc\\1\"","hardware":["rev-a","rev-b"]}}},)"
       R"("spec_version":"1.0.31","expires":"2030-01-01T00:00:00Z","_type":"targets"},)"
       R"("signatures":[]})"},
  };
  // 60 levels: just inside ParseLimits::max_depth (64).
  std::string deep = R"("deep")";
  for (int i = 0; i < 10; ++i) deep = "[" + deep + "]";
  for (int i = 0; i < 25; ++i) deep = R"({"k":[)" + deep + "]}";
  inputs.push_back({"deep", deep});
  return inputs;
}

Result<Json> CanonicalVectors() {
  Json::Array out;
  for (const TextVector& v : CanonicalInputs()) {
    auto parsed = codec::ParseJson(v.input);
    if (!parsed) return aloft::Fail(std::move(parsed).error().WithContext(v.name));
    out.push_back(Json::Object{
        {"name", v.name}, {"input", v.input}, {"canonical", codec::CanonicalJson(*parsed)}});
  }
  return out;
}

struct NamedKey {
  const char* name;
  crypto::PrivateKey key;
};

Result<std::vector<NamedKey>> GenerateKeys() {
  std::vector<NamedKey> keys;
  constexpr std::pair<const char*, crypto::KeyType> kTypes[] = {
      {"ed25519", crypto::KeyType::kEd25519},
      {"ecdsa", crypto::KeyType::kEcdsaP256},
      {"rsa", crypto::KeyType::kRsa},
  };
  for (const auto& [name, type] : kTypes) {
    auto key = crypto::PrivateKey::Generate(type);
    if (!key) return aloft::Fail(std::move(key).error().WithContext(name));
    keys.push_back({name, std::move(*key)});
  }
  return keys;
}

Result<Json> KeyVectors(const std::vector<NamedKey>& keys) {
  Bytes binary(256 + 61);
  for (std::size_t i = 0; i < 256; ++i) binary[i] = static_cast<std::uint8_t>(i);
  if (Status s = crypto::RandomBytes(std::span(binary).subspan(256)); !s) {
    return aloft::Fail(s.error());
  }
  const std::vector<std::pair<const char*, Bytes>> messages = {
      {"empty", {}},
      {"binary", binary},
      {"canonical",
       aloft::ToBytes(codec::CanonicalJson(Json::Object{{"msg", "\xc3\xbc"}, {"n", 1}}))},
  };
  Json::Array out;
  for (const NamedKey& k : keys) {
    for (const auto& [label, message] : messages) {
      auto sig = k.key.Sign(message);
      if (!sig) return aloft::Fail(std::move(sig).error().WithContext(k.name));
      // Self-check, so that a broken generator is not blamed on the other side.
      if (Status s = k.key.Public().Verify(message, *sig); !s) {
        return aloft::Fail(std::move(s).error().WithContext(std::string(k.name) + " self-check"));
      }
      out.push_back(Json::Object{{"name", std::string(k.name) + "/" + label},
                                 {"key", k.key.Public().ToTufJson()},
                                 {"keyid", k.key.KeyId()},
                                 {"message", aloft::HexEncode(message)},
                                 {"signature", aloft::HexEncode(*sig)}});
    }
  }
  return out;
}

// A root whose root role needs all three keys; the other roles use the ed25519 key.
Result<Json> RootVector(const std::vector<NamedKey>& keys, aloft::Timestamp now) {
  metadata::RootMetadata root;
  root.common = {std::string(metadata::kRoot), std::string(metadata::kSpecVersion), 1,
                 now + std::chrono::days(365)};
  root.consistent_snapshot = true;
  std::vector<crypto::PrivateKey> signers;
  for (const NamedKey& k : keys) {
    root.keys.emplace(k.key.KeyId(), metadata::ToListedKey(k.key.Public()));
    root.roles[std::string(metadata::kRoot)].keyids.push_back(k.key.KeyId());
    signers.push_back(k.key);
  }
  root.roles[std::string(metadata::kRoot)].threshold = kRootThreshold;
  for (std::string_view role : {metadata::kTimestamp, metadata::kSnapshot, metadata::kTargets}) {
    root.roles[std::string(role)] = {{keys.front().key.KeyId()}, 1};
  }
  Json signed_json = metadata::ToJson(root);
  // An extension member, so that the signed bytes carry escapes and non-ASCII text.
  signed_json["x-interop"] =
      Json::Object{{"note", "na\xc3\xafve \"quoted\" back\\slash \xe2\x9c\x93 \xf0\x9f\x9a\x80"},
                   {"z", Json::Array{}},
                   {"a", Json::Object{}}};
  auto envelope = metadata::SignMetadata(signed_json, signers);
  if (!envelope) return aloft::Fail(std::move(envelope).error().WithContext("root"));
  // The bytes Aloft publishes, exactly as a repository built with libaloft_core serves them.
  return Json::Object{{"metadata", metadata::Serialize(*envelope)},
                      {"signed_canonical", codec::CanonicalJson(signed_json)}};
}

int Emit(const std::string& path) {
  const aloft::Timestamp now =
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto keys = GenerateKeys();
  if (!keys) {
    std::cerr << "aloft-interop-tool: generate keys: " << keys.error().ToString() << '\n';
    return 2;
  }
  auto canonical = CanonicalVectors();
  if (!canonical) {
    std::cerr << "aloft-interop-tool: canonical vectors: " << canonical.error().ToString() << '\n';
    return 2;
  }
  auto key_vectors = KeyVectors(*keys);
  if (!key_vectors) {
    std::cerr << "aloft-interop-tool: key vectors: " << key_vectors.error().ToString() << '\n';
    return 2;
  }
  auto root = RootVector(*keys, now);
  if (!root) {
    std::cerr << "aloft-interop-tool: root vector: " << root.error().ToString() << '\n';
    return 2;
  }
  // Self-check with our own verifier. A failure here is reported but the vectors are still
  // written, so that the other side's verdict on everything else is not lost.
  Checker checker;
  const Json* root_text = root->Find("metadata");
  auto trusted = metadata::TrustedSet::Create(aloft::AsBytes(root_text->AsString()), now);
  checker.Check(trusted.has_value(), "emit self-check: TrustedSet::Create accepts our own root",
                trusted ? std::string() : trusted.error().ToString());

  const std::size_t canonical_count = canonical->AsArray().size();
  const std::size_t key_count = key_vectors->AsArray().size();
  Json vectors = Json::Object{{"producer", "aloft libaloft_core (aloft-interop-tool)"},
                              {"canonical", std::move(*canonical)},
                              {"keys", std::move(*key_vectors)},
                              {"root", std::move(*root)}};
  if (Status s = WriteFile(path, codec::DumpJson(vectors, /*pretty=*/true) + "\n"); !s) {
    std::cerr << "aloft-interop-tool: " << s.error().ToString() << '\n';
    return 2;
  }
  std::cout << "emit: " << canonical_count << " canonical, " << key_count
            << " key vectors and a root signed by " << keys->size() << " keys -> " << path << '\n';
  return checker.failed() == 0 ? 0 : 1;
}

int Run(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string_view mode = argv[1];
  if (mode == "verify") return Verify(argv[2]);
  if (mode == "emit") return Emit(argv[2]);
  std::cerr << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "aloft-interop-tool: unexpected exception: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "aloft-interop-tool: unexpected exception\n";
  }
  return 2;
}
