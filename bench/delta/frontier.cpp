// aloft-delta-frontier OLD NEW: where the size/creation-time frontier of a delta lies for one
// pair of images, measured with the codecs a patch could use (docs/delta.md, "The creation
// target on large jumps"). Not a patch writer: it prints sizes and CPU seconds of candidate
// encodings so that a scheme can be judged before it is built.
//
//   1. bsdiff's matching (core::delta::FindMatches), its time, and its three streams;
//   2. the same streams after weak approximate matches are turned into literals (shorter than
//      a minimum, or with more than a share of differing bytes): control stream (the smaller
//      of zstd -19 and bzip2), difference stream (the smaller of bzip2 and zstd -9), literals
//      as LZMA2 (xz preset 6 with a 4-deep hash-chain match finder), alone and with the old
//      image as LZMA's preset dictionary;
//   3. whole-file references: LZMA2 over the new image with the old one as preset dictionary
//      (normal and fast mode), and zstd with long-distance matching and the old image as
//      prefix (zstd's --patch-from) at levels 12 and 17.
//
// Times are CPU seconds of this process (user+sys) per step.

#include <bzlib.h>
#include <lzma.h>
#include <sys/resource.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/delta/format.hpp"
#include "core/delta/matcher.hpp"

namespace {

using aloft::Bytes;
using aloft::core::delta::MatchOp;
namespace format = aloft::core::delta::format;

double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

bool ReadWhole(const char* path, Bytes& out) {
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) return false;
  bool ok = std::fseek(file, 0, SEEK_END) == 0;
  const long size = ok ? std::ftell(file) : -1;
  ok = size >= 0 && std::fseek(file, 0, SEEK_SET) == 0;
  if (ok) {
    out.resize(static_cast<std::size_t>(size));
    ok = std::fread(out.data(), 1, out.size(), file) == out.size();
  }
  std::fclose(file);
  return ok;
}

// LZMA2 (raw stream) size of `in`; `dict` becomes LZMA's preset dictionary when not null.
std::size_t Lzma(const Bytes& in, const Bytes* dict, lzma_mode mode, std::uint32_t depth) {
  if (in.empty()) return 0;
  lzma_options_lzma options{};
  lzma_lzma_preset(&options, 6);
  options.dict_size = 64u << 20;
  options.mf = LZMA_MF_HC4;
  options.depth = depth;
  options.mode = mode;
  if (dict != nullptr) {
    options.preset_dict = dict->data();
    options.preset_dict_size = static_cast<std::uint32_t>(dict->size());
  }
  lzma_filter filters[2] = {{LZMA_FILTER_LZMA2, &options}, {LZMA_VLI_UNKNOWN, nullptr}};
  lzma_stream stream = LZMA_STREAM_INIT;
  if (lzma_raw_encoder(&stream, filters) != LZMA_OK) return 0;
  Bytes out(in.size() + in.size() / 2 + (64u << 10));
  stream.next_in = in.data();
  stream.avail_in = in.size();
  stream.next_out = out.data();
  stream.avail_out = out.size();
  const lzma_ret done = lzma_code(&stream, LZMA_FINISH);
  const std::size_t size = out.size() - stream.avail_out;
  lzma_end(&stream);
  return done == LZMA_STREAM_END ? size : 0;
}

std::size_t Bzip2(const Bytes& in) {
  if (in.empty()) return 0;
  std::vector<char> out(in.size() + in.size() / 50 + 700);
  auto size = static_cast<unsigned>(out.size());
  std::vector<char> copy(in.begin(), in.end());  // the API takes a non-const source
  if (BZ2_bzBuffToBuffCompress(out.data(), &size, copy.data(), static_cast<unsigned>(copy.size()),
                               9, 0, 0) != BZ_OK) {
    return 0;
  }
  return size;
}

// zstd frame size of `in` at `level`, with `prefix` referenced as zstd's --patch-from does
// (long-distance matching, a window over prefix and input) when it is not empty.
std::size_t Zstd(const Bytes& in, const Bytes& prefix, int level) {
  if (in.empty()) return 0;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!prefix.empty()) {
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 26);
    ZSTD_CCtx_refPrefix(cctx, prefix.data(), prefix.size());
  }
  Bytes out(ZSTD_compressBound(in.size()));
  const std::size_t size = ZSTD_compress2(cctx, out.data(), out.size(), in.data(), in.size());
  ZSTD_freeCCtx(cctx);
  return ZSTD_isError(size) ? 0 : size;
}

struct Streams {
  Bytes control;
  Bytes diff;
  Bytes extra;
  std::size_t approximate = 0;  // approximate matches kept
};

// The ops as bsdiff's three streams, after turning into literals every approximate match
// shorter than `min_length` or with more than `max_differing` of its bytes differing.
Streams Split(const Bytes& source, const Bytes& target, const std::vector<MatchOp>& ops,
              double max_differing, std::uint64_t min_length) {
  Streams s;
  std::uint64_t source_end = 0;
  std::uint64_t diff_length = 0;
  std::uint64_t extra_length = 0;
  std::int64_t seek = 0;
  bool open = false;
  const auto close = [&] {
    if (!open) return;
    format::PutVarint(s.control, diff_length);
    format::PutVarint(s.control, extra_length);
    format::PutVarint(s.control, format::ZigZag(seek));
    diff_length = extra_length = 0;
  };
  for (const MatchOp& op : ops) {
    bool literal = op.kind == MatchOp::kExtra || op.length < min_length;
    if (!literal) {
      std::uint64_t differing = 0;
      for (std::uint64_t k = 0; k < op.length; ++k) {
        if (target[op.target_pos + k] != source[op.source_pos + k]) ++differing;
      }
      literal = static_cast<double>(differing) > max_differing * static_cast<double>(op.length);
    }
    if (literal) {
      s.extra.insert(s.extra.end(), target.begin() + static_cast<std::ptrdiff_t>(op.target_pos),
                     target.begin() + static_cast<std::ptrdiff_t>(op.target_pos + op.length));
      extra_length += op.length;
      continue;
    }
    close();
    open = true;
    ++s.approximate;
    seek = static_cast<std::int64_t>(op.source_pos) - static_cast<std::int64_t>(source_end);
    diff_length = op.length;
    source_end = op.source_pos + op.length;
    for (std::uint64_t k = 0; k < op.length; ++k) {
      s.diff.push_back(static_cast<std::uint8_t>(target[op.target_pos + k] - source[op.source_pos + k]));
    }
  }
  close();
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: aloft-delta-frontier OLD NEW\n");
    return 2;
  }
  Bytes source;
  Bytes target;
  if (!ReadWhole(argv[1], source) || !ReadWhole(argv[2], target)) {
    std::fprintf(stderr, "aloft-delta-frontier: cannot read %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  std::printf("new image: %zu bytes, old image: %zu bytes\n", target.size(), source.size());

  double t = CpuSeconds();
  auto ops = aloft::core::delta::FindMatches(source, target);
  if (!ops) {
    std::fprintf(stderr, "aloft-delta-frontier: %s\n", ops.error().message().c_str());
    return 1;
  }
  std::printf("matching (hash chains + bsdiff scan): %.2f s CPU, %zu ops\n\n", CpuSeconds() - t,
              ops->size());

  std::printf("%-22s %9s %9s %9s %10s %10s %6s %10s %6s %10s %10s\n", "approximate matches",
              "kept", "control", "diff", "literals", "lit. xz", "s", "lit. xz+old", "s",
              "total", "total+old");
  struct Filter {
    const char* name;
    double max_differing;
    std::uint64_t min_length;
  };
  const Filter filters[] = {{"all (bsdiff's)", 1.0, 0},
                            {">=32 B, <=35% differ", 0.35, 32},
                            {">=32 B, <=25% differ", 0.25, 32},
                            {">=32 B, <=15% differ", 0.15, 32}};
  for (const Filter& f : filters) {
    const Streams s = Split(source, target, *ops, f.max_differing, f.min_length);
    const std::size_t control = std::min(Zstd(s.control, {}, 19), Bzip2(s.control));
    const std::size_t diff = std::min(Bzip2(s.diff), Zstd(s.diff, {}, 9));
    t = CpuSeconds();
    const std::size_t alone = Lzma(s.extra, nullptr, LZMA_MODE_NORMAL, 4);
    const double alone_s = CpuSeconds() - t;
    t = CpuSeconds();
    const std::size_t with_old = Lzma(s.extra, &source, LZMA_MODE_NORMAL, 4);
    const double with_old_s = CpuSeconds() - t;
    std::printf("%-22s %9zu %9zu %9zu %10zu %10zu %6.2f %10zu %6.2f %10zu %10zu\n", f.name,
                s.approximate, control, diff, s.extra.size(), alone, alone_s, with_old, with_old_s,
                control + diff + alone, control + diff + with_old);
    std::fflush(stdout);
  }

  std::printf("\nwhole new image, old image as dictionary or prefix:\n");
  struct Whole {
    const char* name;
    lzma_mode mode;
    std::uint32_t depth;
  };
  for (const Whole& w : {Whole{"xz normal, hc4 depth 4", LZMA_MODE_NORMAL, 4},
                         Whole{"xz fast, hc4 depth 8", LZMA_MODE_FAST, 8}}) {
    t = CpuSeconds();
    const std::size_t size = Lzma(target, &source, w.mode, w.depth);
    std::printf("  %-28s %10zu bytes %6.2f s\n", w.name, size, CpuSeconds() - t);
    std::fflush(stdout);
  }
  for (int level : {12, 17}) {
    t = CpuSeconds();
    const std::size_t size = Zstd(target, source, level);
    std::printf("  zstd -%d --long, old as prefix %10zu bytes %6.2f s\n", level, size,
                CpuSeconds() - t);
    std::fflush(stdout);
  }
  return 0;
}
