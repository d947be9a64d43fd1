// Delta application (core/delta): the patch bytes come from the network, so applying any bytes
// must end in the target or in a refusal, never in anything else. The first input byte picks:
//   even: the rest is a patch, applied to a fixed 4 KiB source;
//   odd:  the rest is a target image; a patch from the fixed source to it is created, then
//         applied (the round trip).
// Invariants:
//  - a patch Finish() accepts produced exactly the header's target length and SHA-256;
//  - the output never passes the header's target length, whatever the patch says;
//  - chunking does not matter: the patch fed whole and fed in pieces whose sizes come from the
//    input give the same verdict and the same bytes;
//  - the source must be the patch's base: a patch accepted for the source is refused (with
//    kVerificationFailed) for a different source of the same length, before writing anything;
//  - round trip: apply(source, create(source, target)) == target, and the header names both.

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/base/bytes.hpp"
#include "core/crypto/hash.hpp"
#include "core/delta/patch.hpp"
#include "core/io/writer.hpp"
#include "fuzz/check.hpp"
#include "fuzz/delta_source.hpp"

namespace {

using aloft::Bytes;
using aloft::ByteView;
using aloft::Errc;
using aloft::fuzz::Check;
namespace delta = aloft::core::delta;

// Far above what a fuzz input can legitimately produce; a writer error is a refusal like any.
constexpr std::size_t kMaxOutput = std::size_t{1} << 22;

struct Applied {
  bool ok = false;
  Errc code = Errc::kInternal;
  Bytes out;
  bool has_header = false;
  delta::PatchHeader header;
};

// Applies `patch` in pieces of 1..256 bytes chosen by `chunking` (one piece when empty).
Applied Apply(ByteView source, ByteView patch, ByteView chunking) {
  Applied result;
  aloft::core::io::BytesWriter writer(kMaxOutput);
  delta::PatchApplier applier(source, writer);
  std::size_t at = 0, pick = 0;
  aloft::Status status = aloft::Ok();
  while (at < patch.size() && status) {
    std::size_t n = patch.size() - at;
    if (!chunking.empty()) n = std::min<std::size_t>(n, chunking[pick++ % chunking.size()] + 1u);
    status = applier.Write(patch.subspan(at, n));
    at += n;
  }
  if (status) status = applier.Finish();
  result.ok = status.has_value();
  if (!status) result.code = status.error().code();
  if (const delta::PatchHeader* h = applier.header()) {
    result.has_header = true;
    result.header = *h;
  }
  result.out = writer.bytes();
  return result;
}

void CheckApplied(const Applied& a) {
  if (a.has_header) {
    Check(a.out.size() <= a.header.target_length, "the output never passes the target length");
  } else {
    Check(a.out.empty(), "nothing is written before the header is read");
  }
  if (!a.ok) return;
  Check(a.has_header, "an accepted patch has a header");
  Check(a.out.size() == a.header.target_length, "an accepted patch produced the target length");
  Check(aloft::core::crypto::Sha256(a.out) == a.header.target_sha256,
        "an accepted patch produced the target digest");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const ByteView rest(data + 1, size - 1);
  const Bytes& source = aloft::fuzz::DeltaSource();

  if (data[0] % 2 == 0) {
    const Applied whole = Apply(source, rest, {});
    CheckApplied(whole);
    const Applied pieces = Apply(source, rest, rest.first(std::min<std::size_t>(rest.size(), 16)));
    CheckApplied(pieces);
    Check(whole.ok == pieces.ok && whole.out == pieces.out, "chunking does not matter");
    if (whole.ok) {
      Bytes other = source;
      other[other.size() / 2] ^= 0x01;
      const Applied wrong = Apply(other, rest, {});
      Check(!wrong.ok && wrong.code == Errc::kVerificationFailed && wrong.out.empty(),
            "another source is refused before anything is written");
    }
    return 0;
  }

  aloft::core::io::BytesWriter patch(kMaxOutput);
  auto created = delta::CreatePatch(source, rest, patch, delta::CreateOptions{.level = 1});
  Check(created.has_value(), "a patch can be made to any target");
  auto header = delta::ReadPatchHeader(patch.bytes());
  Check(header.has_value(), "a created patch has a header");
  Check(header->source_length == source.size() && header->target_length == rest.size(),
        "the header names both lengths");
  Check(header->source_sha256 == aloft::core::crypto::Sha256(source) &&
            header->target_sha256 == aloft::core::crypto::Sha256(rest),
        "the header names both digests");
  const Applied applied =
      Apply(source, patch.bytes(), rest.first(std::min<std::size_t>(rest.size(), 8)));
  Check(applied.ok, "a created patch applies");
  Check(applied.out == Bytes(rest.begin(), rest.end()), "round trip: the target comes back");
  return 0;
}
