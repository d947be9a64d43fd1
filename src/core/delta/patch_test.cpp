#include "core/delta/patch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>

#include "core/delta/branch_filter.hpp"
#include "core/delta/format.hpp"
#include "core/delta/literal_stream.hpp"
#include "core/delta/matcher.hpp"
#include "core/delta/zstd_frames.hpp"

namespace aloft::core::delta {
namespace {

// Records everything written; fails once more than `limit` bytes arrive.
class CountingWriter final : public io::Writer {
 public:
  Status Write(ByteView data) override {
    bytes.insert(bytes.end(), data.begin(), data.end());
    ++calls;
    return Ok();
  }
  Bytes bytes;
  int calls = 0;
};

Bytes Random(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// Something shaped like an executable: repeated instruction-like records carrying addresses,
// so that a "new version" with an insertion shifts every later address by a constant.
Bytes Program(std::size_t records, std::uint32_t shift_after, std::uint32_t shift, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out;
  for (std::size_t i = 0; i < records; ++i) {
    std::uint32_t opcode = rng() % 16;
    std::uint32_t address = static_cast<std::uint32_t>(i * 16) + (i >= shift_after ? shift : 0);
    out.push_back(static_cast<std::uint8_t>(0x40 + opcode));
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(address >> (8 * k)));
    out.push_back(static_cast<std::uint8_t>(rng() % 4));
  }
  return out;
}

Bytes Create(ByteView a, ByteView b, CreateOptions options = {}) {
  io::BytesWriter out(1u << 30);
  auto created = CreatePatch(a, b, out, options);
  EXPECT_TRUE(created) << created.error().ToString();
  return std::move(out).bytes();
}

Result<Bytes> Apply(ByteView source, ByteView patch, std::size_t chunk) {
  CountingWriter out;
  PatchApplier applier(source, out);
  for (std::size_t at = 0; at < patch.size(); at += chunk) {
    if (auto w = applier.Write(patch.subspan(at, std::min(chunk, patch.size() - at))); !w) {
      return Fail(w.error());
    }
  }
  if (auto f = applier.Finish(); !f) return Fail(f.error());
  return out.bytes;
}

void ExpectRoundTrip(const Bytes& a, const Bytes& b, CreateOptions options = {}) {
  Bytes patch = Create(a, b, options);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4093}, patch.size() + 1}) {
    if (chunk == 1 && patch.size() > 200'000) continue;  // byte-at-a-time is covered on small patches
    auto applied = Apply(a, patch, chunk);
    ASSERT_TRUE(applied) << "chunk " << chunk << ": " << applied.error().ToString();
    ASSERT_TRUE(*applied == b) << "chunk " << chunk;
  }
}

TEST(Delta, EmptyAndIdentical) {
  Bytes data = Random(10'000, 1);
  ExpectRoundTrip({}, {});
  ExpectRoundTrip({}, data);
  ExpectRoundTrip(data, {});
  ExpectRoundTrip(data, data);
  Bytes same = Create(data, data);
  EXPECT_LT(same.size(), HeaderBytes() + 200) << "an identical image should cost almost nothing";
}

TEST(Delta, RandomDataUnrelatedAndEdited) {
  ExpectRoundTrip(Random(50'000, 2), Random(60'000, 3));
  Bytes a = Random(200'000, 4);
  Bytes b = a;
  b.insert(b.begin() + 5000, 3000, 0x55);                  // insertion
  b.erase(b.begin() + 100'000, b.begin() + 110'000);       // deletion
  for (std::size_t i = 150'000; i < 150'100; ++i) b[i] ^= 0x21;  // modification
  ExpectRoundTrip(a, b);
  Bytes patch = Create(a, b);
  EXPECT_LT(patch.size(), 5000u) << "edits of random data cost about their inserted bytes";
}

TEST(Delta, StructuredShrinkingAndGrowing) {
  Bytes v1 = Program(40'000, 40'000, 0, 5);
  Bytes v2 = Program(41'000, 10'000, 0x300, 5);  // grows, and shifts addresses after record 10000
  Bytes v0 = Bytes(v1.begin(), v1.begin() + 100'000);
  ExpectRoundTrip(v1, v2);
  ExpectRoundTrip(v2, v1);
  ExpectRoundTrip(v1, v0);
  ExpectRoundTrip(v0, v1);
  // The address shift is what bsdiff's approximate matches are for.
  EXPECT_LT(Create(v1, v2).size(), v2.size() / 20);
}

// The methods each block of `patch` (made with `block_size`) uses, indexed by method.
std::array<bool, 5> MethodsOf(const Bytes& patch, std::size_t target_size, std::size_t block_size) {
  std::array<bool, 5> saw{};
  std::size_t at = HeaderBytes();
  for (std::size_t produced = 0; produced < target_size; produced += block_size) {
    const std::uint8_t method = patch.at(at);
    EXPECT_TRUE(method >= format::kMethodBsdiff && method <= format::kMethodLzmaSourceFiltered);
    if (method < format::kMethodBsdiff || method > format::kMethodLzmaSourceFiltered) return saw;
    saw[method] = true;
    if (method == format::kMethodBsdiff) {
      at += format::kBsdiffHeadSize + format::GetU32(&patch[at + 5]) + format::GetU32(&patch[at + 13]) +
            format::GetU32(&patch[at + 17]);
    } else if (method == format::kMethodZstdPrefix) {
      at += format::kZstdPrefixHeadSize + format::GetU32(&patch[at + 17]);
    } else if (method == format::kMethodLzmaSource) {
      at += format::kLzmaSourceHeadSize + format::GetU32(&patch[at + 1]);
    } else {
      at += format::kLzmaSourceFilteredHeadSize + format::GetU32(&patch[at + 2]);
    }
  }
  EXPECT_EQ(at, patch.size());
  return saw;
}

TEST(Delta, ManySmallBlocksEveryMethod) {
  Bytes a = Program(30'000, 30'000, 0, 6);
  Bytes b = Program(30'000, 5'000, 0x40, 6);
  Bytes tail = Random(30'000, 7);  // unrelated tail: a stream over the source wins those blocks
  b.insert(b.end(), tail.begin(), tail.end());
  CreateOptions options;
  options.block_size = 4096;
  // Every block may be tried as a stream over the whole 180 KB source: a cheap zstd level
  // keeps that fast (under ASan too); the choice between the methods is the same.
  options.level = 3;
  // Sources up to the LZMA limit (this one) get LZMA2 streams over the source; with the limit
  // at 0 they get zstd frames, as sources between the limit and the prefix window do.
  for (const std::uint64_t lzma_limit : {std::uint64_t{16} << 20, std::uint64_t{0}}) {
    options.lzma_source_limit = lzma_limit;
    options.block_size = 4096;
    ExpectRoundTrip(a, b, options);
    options.block_size = 1;  // a block per byte: every control split at every boundary
    ExpectRoundTrip(Bytes(a.begin(), a.begin() + 3000), Bytes(b.begin(), b.begin() + 2000), options);

    options.block_size = 4096;
    const std::array<bool, 5> saw = MethodsOf(Create(a, b, options), b.size(), options.block_size);
    EXPECT_TRUE(saw[format::kMethodBsdiff]);
    EXPECT_EQ(saw[format::kMethodLzmaSource], lzma_limit > 0);
    EXPECT_EQ(saw[format::kMethodZstdPrefix], lzma_limit == 0);
  }
}

// A large jump between two "programs": most of the new one is new code with short matches
// into the old one, which an LZMA2 stream over the source codes smaller than bsdiff's way.
TEST(Delta, LzmaOverTheSourceWinsLargeJumpsAndIsRefusedWhenCorrupt) {
  Bytes a = Program(3000, 3000, 0, 21);
  Bytes b = Program(3000, 1000, 0x40, 22);  // other opcodes from record 0 on
  const Bytes fresh = Random(2000, 23);
  b.insert(b.begin() + 6000, fresh.begin(), fresh.end());
  const Bytes patch = Create(a, b);
  ASSERT_TRUE(MethodsOf(patch, b.size(), format::kDefaultBlockSize)[format::kMethodLzmaSource]);
  ExpectRoundTrip(a, b);

  // Every byte of the stream flipped: refused, or (a flip LZMA2 does not read) harmless.
  std::size_t refused = 0;
  const std::size_t payload = HeaderBytes() + format::kLzmaSourceHeadSize;
  for (std::size_t i = HeaderBytes(); i < patch.size(); ++i) {
    Bytes bad = patch;
    bad[i] ^= 0x01;
    CountingWriter out;
    PatchApplier applier(a, out);
    const bool ok = applier.Write(bad) && applier.Finish();
    if (ok) {
      EXPECT_TRUE(out.bytes == b) << "byte " << i;
    } else {
      ++refused;
    }
  }
  EXPECT_GT(refused, (patch.size() - payload) * 9 / 10);
}

// Version 2 is version 3 without LZMA blocks: a version-2 patch still applies, and a version-2
// header in front of an LZMA block is corrupt. An LZMA block over a source above the limit is
// refused before its payload is read (its decoder would hold the whole source).
TEST(Delta, VersionTwoAppliesAndLzmaBlocksNeedVersionThreeAndASmallSource) {
  Bytes a = Program(3000, 3000, 0, 21);
  Bytes b = Program(3000, 1000, 0x40, 22);
  CreateOptions zstd_only;
  zstd_only.lzma_source_limit = 0;
  zstd_only.level = 3;
  Bytes v2 = Create(a, b, zstd_only);
  v2[8] = 2;
  auto applied = Apply(a, v2, v2.size());
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_TRUE(*applied == b);

  Bytes lzma = Create(a, b);
  ASSERT_TRUE(MethodsOf(lzma, b.size(), format::kDefaultBlockSize)[format::kMethodLzmaSource]);
  lzma[8] = 2;
  auto refused = Apply(a, lzma, lzma.size());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(refused.error().message().find("unknown block method 3"), std::string::npos)
      << refused.error().message();

  // A hand-made version-3 patch: a source one byte above the limit, an LZMA block over it.
  const Bytes big(format::kLzmaSourceLimit + 1, 0);
  Bytes head(format::kMagic, format::kMagic + sizeof format::kMagic);
  head.push_back(format::kVersion);
  head.insert(head.end(), 3, 0);
  format::PutU32(head, format::kDefaultBlockSize);
  format::PutU64(head, big.size());
  head.insert(head.end(), 32, 0);
  format::PutU64(head, 100);
  head.insert(head.end(), 32, 0);
  head.push_back(format::kMethodLzmaSource);
  CountingWriter out;
  PatchApplier applier(big, out, /*source_verified=*/true);
  const Status too_big = applier.Write(head);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(too_big.error().message().find("larger than 16 MiB"), std::string::npos)
      << too_big.error().message();
  EXPECT_TRUE(out.bytes.empty());
}

// Program() as an x86-64 ELF file: the header that selects the branch filter, and call
// instructions (E8 and a displacement to a "function") among the records.
Bytes X86Program(std::size_t records, std::uint32_t shift_after, std::uint32_t shift, std::uint32_t seed) {
  Bytes out(64, 0);
  const std::uint8_t ident[] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  std::copy(std::begin(ident), std::end(ident), out.begin());
  out[18] = 62;  // EM_X86_64
  const Bytes body = Program(records, shift_after, shift, seed);
  std::mt19937 rng(seed);
  for (std::size_t i = 0; i + 6 <= body.size(); i += 6) {
    out.insert(out.end(), body.begin() + static_cast<std::ptrdiff_t>(i), body.begin() + static_cast<std::ptrdiff_t>(i + 6));
    if (rng() % 3 == 0) {
      const auto function = static_cast<std::uint32_t>((rng() % 64) * 4096 + (i >= shift_after * 6 ? shift : 0));
      const auto rel = static_cast<std::uint32_t>(function - (out.size() + 5));
      out.push_back(0xE8);
      for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(rel >> (8 * k)));
    }
  }
  return out;
}

// Program() as an AArch64 ELF file: 8-byte records of an instruction-like word and a BL to a
// "function" (a word offset from the BL itself).
Bytes Arm64Program(std::size_t records, std::size_t shift_after, std::uint32_t shift, std::uint32_t seed) {
  Bytes out(64, 0);
  const std::uint8_t ident[] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  std::copy(std::begin(ident), std::end(ident), out.begin());
  out[18] = 183;  // EM_AARCH64
  const Bytes body = Program(records, static_cast<std::uint32_t>(shift_after), shift, seed);
  std::mt19937 rng(seed);
  for (std::size_t r = 0; r < records; ++r) {
    out.insert(out.end(), body.begin() + static_cast<std::ptrdiff_t>(r * 6),
               body.begin() + static_cast<std::ptrdiff_t>(r * 6 + 4));
    const auto function = static_cast<std::uint32_t>((rng() % 64) * 4096 + (r >= shift_after ? shift : 0));
    const auto here = static_cast<std::uint32_t>(out.size());
    const std::uint32_t bl = 0x94000000u | (((function - here) >> 2) & 0x03FFFFFFu);
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::uint8_t>(bl >> (8 * k)));
  }
  return out;
}


// A pair whose patch must be method 4 with `filter`: checked, and applied, in one block and in
// 4 KiB blocks (the filter's positions start at each block's offset). Returns the one-block
// patch.
Bytes ExpectFilteredRoundTrips(const Bytes& a, const Bytes& b, BranchFilter filter) {
  const Bytes patch = Create(a, b);
  EXPECT_TRUE(MethodsOf(patch, b.size(), format::kDefaultBlockSize)[format::kMethodLzmaSourceFiltered]);
  EXPECT_EQ(patch.at(HeaderBytes() + 1), static_cast<std::uint8_t>(filter));
  ExpectRoundTrip(a, b);
  CreateOptions blocks;
  blocks.block_size = 4096;
  EXPECT_TRUE(MethodsOf(Create(a, b, blocks), b.size(), blocks.block_size)[format::kMethodLzmaSourceFiltered]);
  ExpectRoundTrip(a, b, blocks);
  return patch;
}

// The same for AArch64: method 4 with the ARM64 filter (byte 2).
TEST(Delta, Arm64LargeJumpsGoThroughTheBranchFilter) {
  const Bytes a = Arm64Program(4000, 4000, 0, 41);
  Bytes b = Arm64Program(4000, 1000, 0x40, 42);
  const Bytes fresh = Random(2000, 43);
  b.insert(b.begin() + 8000, fresh.begin(), fresh.end());
  ExpectFilteredRoundTrips(a, b, BranchFilter::kArm64);
}

// A large jump between two x86 executables goes through the branch filter (method 4), in one
// block or several; without the option the same pair gets method 3. A version-3 header in front of a filtered block, and a filter
// this version does not know, are corrupt.
TEST(Delta, X86LargeJumpsGoThroughTheBranchFilter) {
  const Bytes a = X86Program(3000, 3000, 0, 21);
  Bytes b = X86Program(3000, 1000, 0x40, 22);
  const Bytes fresh = Random(2000, 23);
  b.insert(b.begin() + 6000, fresh.begin(), fresh.end());
  const Bytes patch = ExpectFilteredRoundTrips(a, b, BranchFilter::kX86);

  CreateOptions unfiltered;
  unfiltered.branch_filters = false;
  const std::array<bool, 5> saw = MethodsOf(Create(a, b, unfiltered), b.size(), format::kDefaultBlockSize);
  EXPECT_TRUE(saw[format::kMethodLzmaSource]);
  EXPECT_FALSE(saw[format::kMethodLzmaSourceFiltered]);

  Bytes v3 = patch;
  v3[8] = 3;
  auto refused = Apply(a, v3, v3.size());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("unknown block method 4"), std::string::npos)
      << refused.error().message();
  Bytes unknown_filter = patch;
  unknown_filter[HeaderBytes() + 1] = 3;
  refused = Apply(a, unknown_filter, unknown_filter.size());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Errc::kVerificationFailed);
  EXPECT_NE(refused.error().message().find("unknown branch filter 3"), std::string::npos)
      << refused.error().message();

  // Every fifth byte of the stream flipped (each try converts the source again): refused, or
  // (a flip LZMA2 does not read) harmless.
  std::size_t refused_flips = 0;
  std::size_t flips = 0;
  const std::size_t payload = HeaderBytes() + format::kLzmaSourceFilteredHeadSize;
  for (std::size_t i = payload; i < patch.size(); i += 5, ++flips) {
    Bytes bad = patch;
    bad[i] ^= 0x01;
    auto applied = Apply(a, bad, bad.size());
    if (applied) {
      EXPECT_TRUE(*applied == b) << "byte " << i;
    } else {
      ++refused_flips;
    }
  }
  EXPECT_GT(refused_flips, flips * 9 / 10);
}

// The sample that decides whether the full scan is made: it tells a release that shifted
// addresses (almost no literals) from an unrelated image (all literals), as the full scan does.
TEST(Delta, MatchSampleEstimatesTheLiteralShare) {
  const Bytes v1 = Program(200'000, 200'000, 0, 31);
  const Bytes v2 = Program(200'000, 50'000, 0x300, 31);
  const Bytes unrelated = Random(v2.size(), 32);
  auto finder = MatchFinder::Build(v1);
  ASSERT_TRUE(finder);
  EXPECT_LT(finder->LiteralPermille(v2, 16, 8192), 10u);
  EXPECT_GT(finder->LiteralPermille(unrelated, 16, 8192), 990u);
  // Half and half: the sample lands near the full scan's share.
  Bytes mixed(v2.begin(), v2.begin() + static_cast<std::ptrdiff_t>(v2.size() / 2));
  mixed.insert(mixed.end(), unrelated.begin(), unrelated.begin() + static_cast<std::ptrdiff_t>(v2.size() / 2));
  const std::uint32_t exact = finder->LiteralPermille(mixed, 0, 0);
  const std::uint32_t sampled = finder->LiteralPermille(mixed, 16, 8192);
  EXPECT_NEAR(static_cast<double>(sampled), static_cast<double>(exact), 100.0);
  EXPECT_NEAR(static_cast<double>(exact), 500.0, 20.0);
  // Targets no larger than the windows are scanned whole.
  EXPECT_EQ(finder->LiteralPermille(ByteView(mixed).first(1000), 16, 8192),
            finder->LiteralPermille(ByteView(mixed).first(1000), 0, 0));
  EXPECT_EQ(finder->LiteralPermille({}, 16, 8192), 0u);

  // A target above the sampling threshold that the sample finds unrelated: every block is a
  // stream over the whole source, and it applies. (An x86 ELF header, so that LZMA's fast mode
  // keeps the test quick.)
  const Bytes source = Random(256u << 10, 33);
  Bytes target = Random((4u << 20) + 100, 34);
  const std::uint8_t elf[] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  std::copy(std::begin(elf), std::end(elf), target.begin());
  target[18] = 62;  // EM_X86_64
  target[19] = 0;
  CreateOptions options;
  options.block_size = 1u << 20;
  const Bytes patch = Create(source, target, options);
  const std::array<bool, 5> saw = MethodsOf(patch, target.size(), options.block_size);
  EXPECT_FALSE(saw[format::kMethodBsdiff]);
  EXPECT_TRUE(saw[format::kMethodLzmaSourceFiltered]);
  auto applied = Apply(source, patch, 1u << 20);
  ASSERT_TRUE(applied) << applied.error().ToString();
  EXPECT_TRUE(*applied == target);
}

// A small "file-system image": 4 KiB blocks of files, some moved far away, some edited, some
// new (twice: a new file that recurs in a later block), and zero-filled free space.
struct Images {
  Bytes a;
  Bytes b;
};
Images FileSystemLike(std::uint32_t seed) {
  constexpr std::size_t kBlock = 4096;
  std::vector<Bytes> files;
  for (std::uint32_t i = 0; i < 96; ++i) files.push_back(i % 5 == 0 ? Bytes(kBlock, 0) : Random(kBlock, seed + i));
  Images images;
  for (const Bytes& f : files) images.a.insert(images.a.end(), f.begin(), f.end());
  std::mt19937 rng(seed);
  std::shuffle(files.begin(), files.end(), rng);          // files moved across the image
  for (std::size_t i = 3; i < files.size(); i += 11) files[i][rng() % kBlock] ^= 0x10;  // edited
  Bytes fresh = Random(kBlock, seed + 1000);
  files[10] = fresh;
  files[80] = fresh;                                      // new, and again in a later block
  for (const Bytes& f : files) images.b.insert(images.b.end(), f.begin(), f.end());
  return images;
}

TEST(Delta, HashAnchorsFindMovedAndEditedBlocks) {
  Images images = FileSystemLike(20);
  CreateOptions options;
  options.match_index = MatchIndex::kHashAnchors;
  options.block_size = 64 << 10;  // several blocks: the literal stream spans them
  options.prefix_window = 0;      // as for a big image: no whole-source frames
  ExpectRoundTrip(images.a, images.b, options);
  // About one new 4 KiB file (its copy in a later block refers back through the literal
  // stream) plus the controls: far less than the 384 KiB image.
  const std::size_t size = Create(images.a, images.b, options).size();
  EXPECT_LT(size, 4096u + 3000u);
  options.match_index = MatchIndex::kSuffixArray;
  ExpectRoundTrip(images.a, images.b, options);

  // Growing, shrinking, unrelated and identical images through the anchors, down to sources
  // shorter than an anchor.
  options.block_size = 5000;
  ExpectRoundTrip(images.b, Bytes(images.a.begin(), images.a.begin() + 100'000), options);
  ExpectRoundTrip(Bytes(images.b.begin(), images.b.begin() + 100'000), images.a, options);
  ExpectRoundTrip(images.a, images.a, options);
  ExpectRoundTrip(Random(20, 3), images.a, options);
  ExpectRoundTrip(images.a, Random(70'000, 4), options);
}

TEST(Delta, HashChainsFindWhatTheSuffixArrayFinds) {
  // A program whose code moved by a few bytes after record 300, with changed constants.
  const Bytes a = Program(2000, 300, 0, 7);
  const Bytes b = Program(2100, 300, 12, 7);
  CreateOptions options;
  options.match_index = MatchIndex::kSuffixArray;
  const std::size_t by_suffixes = Create(a, b, options).size();
  options.match_index = MatchIndex::kHashChains;
  ExpectRoundTrip(a, b, options);
  const std::size_t by_chains = Create(a, b, options).size();
  EXPECT_LE(by_chains, by_suffixes + by_suffixes / 20) << by_chains << " vs " << by_suffixes;
  // Sources shorter than a seed, empty targets, and sources that are all one byte (one long
  // chain: the depth bound keeps each search short).
  ExpectRoundTrip(Bytes{1, 2, 3}, b, options);
  ExpectRoundTrip(a, Bytes{}, options);
  ExpectRoundTrip(Bytes(200'000, 0), Bytes(150'000, 0), options);
  ExpectRoundTrip(Bytes(100'000, 0x90), b, options);
}

TEST(Delta, MatchesCoverTheTargetExactlyOnce) {
  Images images = FileSystemLike(30);
  for (MatchIndex index :
       {MatchIndex::kHashChains, MatchIndex::kSuffixArray, MatchIndex::kHashAnchors}) {
    auto ops = FindMatches(images.a, images.b, index);
    ASSERT_TRUE(ops);
    std::uint64_t at = 0;
    for (const MatchOp& op : *ops) {
      EXPECT_EQ(op.target_pos, at);
      EXPECT_GT(op.length, 0u);
      if (op.kind == MatchOp::kDiff) {
        EXPECT_LE(op.source_pos + op.length, images.a.size());
      }
      at += op.length;
    }
    EXPECT_EQ(at, images.b.size());
  }
}

TEST(Delta, HeaderDescribesBothImages) {
  Bytes a = Random(1000, 8);
  Bytes b = Random(1500, 9);
  Bytes patch = Create(a, b);
  auto header = ReadPatchHeader(patch);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->source_length, 1000u);
  EXPECT_EQ(header->target_length, 1500u);
  EXPECT_EQ(header->source_sha256.size(), 32u);
  EXPECT_EQ(header->target_sha256.size(), 32u);
  EXPECT_EQ(ReadPatchHeader(ByteView(patch).first(HeaderBytes() - 1)).error().code(), Errc::kInvalidArgument);
  Bytes bad_magic = patch;
  bad_magic[0] = 'X';
  EXPECT_EQ(ReadPatchHeader(bad_magic).error().code(), Errc::kInvalidArgument);
  // Version 1 (per-block literal frames) and unknown versions are refused with a clear error.
  for (int version : {1, 5}) {
    Bytes bad_version = patch;
    bad_version[8] = static_cast<std::uint8_t>(version);
    auto refused = ReadPatchHeader(bad_version);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code(), Errc::kInvalidArgument);
    EXPECT_NE(refused.error().ToString().find("create the patch again"), std::string::npos);
  }

  CountingWriter out;
  PatchApplier applier(a, out);
  EXPECT_EQ(applier.header(), nullptr);
  ASSERT_TRUE(applier.Write(ByteView(patch).first(HeaderBytes())));
  const PatchHeader* seen = applier.header();
  ASSERT_TRUE(seen != nullptr);
  EXPECT_EQ(seen == nullptr ? 0 : seen->target_length, 1500u);
}

TEST(Delta, WrongBaseIsRefusedBeforeAnyOutput) {
  Bytes a = Program(5000, 5000, 0, 10);
  Bytes b = Program(5000, 100, 8, 10);
  Bytes patch = Create(a, b);
  Bytes other = a;
  other[1234] ^= 1;  // same length, other content
  std::vector<Bytes> bases;
  bases.push_back(other);
  bases.emplace_back(a.begin(), a.end() - 1);
  bases.emplace_back();
  for (const Bytes& base : bases) {
    CountingWriter out;
    PatchApplier applier(base, out);
    auto written = applier.Write(patch);
    ASSERT_FALSE(written);
    EXPECT_EQ(written.error().code(), Errc::kVerificationFailed);
    EXPECT_NE(written.error().message().find("wrong base"), std::string::npos);
    EXPECT_EQ(out.calls, 0);
    EXPECT_FALSE(applier.Finish());
  }
  // With source_verified the caller vouched for the base; a wrong one still fails at Finish().
  CountingWriter out;
  PatchApplier trusting(other, out, /*source_verified=*/true);
  auto written = trusting.Write(patch);
  auto finished = trusting.Finish();
  EXPECT_FALSE(written && finished);
}

TEST(Delta, EveryFlippedByteIsRefusedOrHarmless) {
  Bytes a = Program(400, 400, 0, 11);
  Bytes b = Program(420, 50, 16, 11);
  Bytes patch = Create(a, b);
  ASSERT_LT(patch.size(), 2000u);
  std::size_t refused = 0;
  for (std::size_t i = 0; i < patch.size(); ++i) {
    for (std::uint8_t mask : {std::uint8_t{0xff}, std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Bytes bad = patch;
      bad[i] ^= mask;
      CountingWriter out;
      PatchApplier applier(a, out);
      auto written = applier.Write(bad);
      bool ok = written && applier.Finish();
      EXPECT_LE(out.bytes.size(), b.size());
      if (ok) {
        // Only a flip that does not change what the patch means may pass (an unused bit of a
        // zstd frame header, say): the output is then exactly the target.
        EXPECT_TRUE(out.bytes == b) << "byte " << i;
      } else {
        ++refused;
      }
    }
  }
  EXPECT_GT(refused, patch.size() * 3 * 9 / 10);
}

TEST(Delta, TruncatedOrTrailingPatchIsRefused) {
  Bytes a = Program(2000, 2000, 0, 12);
  Bytes b = Program(2100, 300, 32, 12);
  Bytes patch = Create(a, b);
  for (std::size_t n = 0; n < patch.size(); ++n) {
    CountingWriter out;
    PatchApplier applier(a, out);
    auto written = applier.Write(ByteView(patch).first(n));
    EXPECT_FALSE(written && applier.Finish()) << "truncated to " << n;
  }
  Bytes longer = patch;
  longer.push_back(0);
  auto applied = Apply(a, longer, 13);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), Errc::kVerificationFailed);
}

// Hand-made blocks whose controls lie: every one must be refused, none may crash or read
// outside the source.
TEST(Delta, CorruptControlsAreRefused) {
  Bytes a = Random(1000, 13);
  Bytes b = Random(100, 14);
  Bytes patch = Create(a, b);
  Bytes header(patch.begin(), patch.begin() + static_cast<std::ptrdiff_t>(HeaderBytes()));
  FrameCompressor compressor(3);
  auto block = [&](const Bytes& control, std::uint32_t diff_raw) {
    Bytes diff(diff_raw, 0);
    Bytes extra(100 - diff_raw, 7);
    Bytes c = *compressor.Compress(control);
    Bytes d = diff.empty() ? Bytes{} : *compressor.Compress(diff);
    LiteralEncoder literals;
    Bytes e = *literals.Append(extra);
    Bytes out = header;
    out.push_back(format::kMethodBsdiff);
    for (auto v : {control.size(), c.size(), diff.size(), d.size(), e.size()}) {
      format::PutU32(out, static_cast<std::uint32_t>(v));
    }
    out.insert(out.end(), 2, format::kCodecZstd);
    for (const Bytes* f : {&c, &d, &e}) out.insert(out.end(), f->begin(), f->end());
    return out;
  };
  auto control = [](std::initializer_list<std::uint64_t> values) {
    Bytes out;
    for (auto v : values) format::PutVarint(out, v);
    return out;
  };
  const std::uint64_t kHuge = ~std::uint64_t{0};
  std::vector<Bytes> bad = {
      block(control({1001}), 0),                                        // start past the source
      block(control({990, 50, 50, 0}), 50),                             // diff past the source
      block(control({0, 60, 40, 0}), 50),                               // more diff than the stream
      block(control({0, 50, 60, 0}), 50),                               // more extra than the stream
      block(control({0, 50, 0, format::ZigZag(-51), 0, 50, 0}), 50),    // seek before the start
      block(control({0, 50, 0, format::ZigZag(951)}), 50),              // seek past the end
      block(control({0, kHuge, kHuge, kHuge}), 50),                     // overflowing values
      block(control({0, 25, 0}), 50),                                   // truncated triple
      block(control({0, 25, 25, 0}), 50),                               // streams not used up
      block(Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 0),  // varint overflow
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    CountingWriter out;
    PatchApplier applier(a, out);
    auto written = applier.Write(bad[i]);
    ASSERT_FALSE(written) << "case " << i;
    EXPECT_EQ(written.error().code(), Errc::kVerificationFailed) << "case " << i;
    EXPECT_LE(out.bytes.size(), b.size());
  }
  // A control that is valid but yields other bytes passes the block and fails at Finish().
  Bytes wrong = block(control({0, 50, 50, 0}), 50);
  ASSERT_EQ(wrong.size(), HeaderBytes() + format::kBsdiffHeadSize + format::GetU32(&wrong[HeaderBytes() + 5]) +
                              format::GetU32(&wrong[HeaderBytes() + 13]) + format::GetU32(&wrong[HeaderBytes() + 17]))
      << "the hand-made record must follow the format's layout";
  auto applied = Apply(a, wrong, 1);
  ASSERT_FALSE(applied);
  EXPECT_EQ(applied.error().code(), Errc::kVerificationFailed);
}

TEST(Delta, WriterErrorsStopTheApplier) {
  class FailingWriter final : public io::Writer {
   public:
    Status Write(ByteView) override { return Fail(Errc::kNoSpace, "disk full"); }
  };
  Bytes a = Random(1000, 15);
  Bytes b = Random(1000, 16);
  Bytes patch = Create(a, b);
  FailingWriter out;
  PatchApplier applier(a, out);
  auto written = applier.Write(patch);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code(), Errc::kNoSpace);
  EXPECT_FALSE(applier.Write(patch));
  EXPECT_FALSE(applier.Finish());
}

TEST(Delta, MemoryBoundIsWithinTheIssueTarget) {
  // The issue's bound is for a 512 MiB image; small sources may also carry LZMA blocks over
  // the whole source, whose decoder holds it and a block.
  EXPECT_LE(PatchApplier::MemoryBound(std::uint64_t{512} << 20), std::size_t{64} << 20);
  EXPECT_EQ(PatchApplier::MemoryBound(std::uint64_t{512} << 20),
            PatchApplier::MemoryBound(format::kLzmaSourceLimit + 1));
  EXPECT_GT(PatchApplier::MemoryBound(10u << 20),
            PatchApplier::MemoryBound(format::kLzmaSourceLimit + 1) + (std::size_t{26} << 20));
  // 52.1 MiB + the filtered method's decoder (a 32 MiB dictionary) and converted source (16 MiB).
  EXPECT_LE(PatchApplier::MemoryBound(format::kLzmaSourceLimit), std::size_t{101} << 20);
  CreateOptions options;
  options.block_size = 0;
  io::BytesWriter out(1000);
  EXPECT_EQ(CreatePatch({}, {}, out, options).error().code(), Errc::kInvalidArgument);
}

TEST(Delta, CancelStopsCreation) {
  const Bytes a = Random(4096, 1);
  const Bytes b = Random(4096, 2);
  std::atomic<bool> cancel{true};
  CreateOptions options;
  options.block_size = 1024;
  options.cancel = &cancel;
  io::BytesWriter out(1 << 20);
  Status s = CreatePatch(a, b, out, options);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), Errc::kCancelled);
  cancel = false;  // not cancelled: the same options make a patch that applies
  ExpectRoundTrip(a, b, options);
}

}  // namespace
}  // namespace aloft::core::delta
