#pragma once

// Executable-aware preprocessing for the whole-source LZMA method (patch method 4): xz's branch
// converters ("BCJ"), which rewrite the relative targets of calls and jumps (x86: E8/E9; ARM64:
// BL and ADRP) into absolute ones, so that calls to the same function look the same wherever
// they are. liblzma applies one to the new image inside its filter chain; the old image, which
// is LZMA's preset dictionary and never passes through the chain, is converted here, the same
// way, so that both sides of the delta are in the same form. On the large esbuild jumps this
// makes the patch 5 % (x86-64) and 7 % (aarch64) smaller and lets LZMA's fast mode beat
// `zstd -19 --patch-from` (docs/delta.md, "Why this scheme").
//
// liblzma 5.4 (Debian 12) has no public call for a filter alone, hence these copies of its
// algorithms. They must produce what liblzma's encoder produces for the patch to be small (the
// test checks that byte for byte); they must be deterministic for the patch to be correct,
// because the applier converts the source again with these same functions.

#include <cstdint>
#include <span>

#include "core/base/bytes.hpp"

namespace aloft::core::delta {

enum class BranchFilter : std::uint8_t {
  kNone = 0,
  kX86 = 1,    // x86 and x86-64 machine code (ELF e_machine EM_386 or EM_X86_64)
  kArm64 = 2,  // AArch64 machine code (ELF e_machine EM_AARCH64)
};

// The filter for an image, from its ELF header: kX86 for x86 and x86-64 executables and
// libraries, kArm64 for AArch64 ones, kNone for anything else.
BranchFilter BranchFilterFor(ByteView image);

// Converts `data` in place as liblzma's x86 filter encoder does for a stream of these bytes
// starting at `start_offset` (lzma_options_bcj::start_offset). The last four bytes are never
// converted, as in liblzma at the end of a stream.
void EncodeX86Branches(std::span<std::uint8_t> data, std::uint32_t start_offset = 0);

// Converts `data` in place as liblzma's ARM64 filter encoder does (whole 4-byte words; a
// trailing partial word is left as it is).
void EncodeArm64Branches(std::span<std::uint8_t> data, std::uint32_t start_offset = 0);

// `image` converted by `filter` (a copy; kNone copies it unchanged).
Bytes FilteredCopy(ByteView image, BranchFilter filter);

}  // namespace aloft::core::delta
