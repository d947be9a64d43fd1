#pragma once

// The fuzz targets' assertion: an invariant that did not hold is a finding, so it must stop the
// run in every build type (assert() vanishes under NDEBUG, and RelWithDebInfo defines it).
// abort() is what libFuzzer and the corpus replay both report as a crash; libFuzzer's stack
// trace gives the line, and each invariant's text is unique. (No std::source_location: clang 14
// with libstdc++ 12 does not provide it.)

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace aloft::fuzz {

inline void Check(bool holds, std::string_view invariant) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(invariant.size()),
               invariant.data());
  std::abort();
}

}  // namespace aloft::fuzz
