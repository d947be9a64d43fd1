# One INTERFACE target that every Aloft target links, so the warning policy lives in one place.
add_library(aloft_warnings INTERFACE)
target_compile_options(aloft_warnings INTERFACE
  -Wall                  # the common set
  -Wextra                # unused parameters, sign/enum comparisons, missing initialisers
  -Wpedantic             # no GNU extensions: the code must stay portable to clang
  -Werror                # a warning is a bug we have not looked at yet
  -Wshadow               # a shadowed name in verification code is a bug waiting to happen
  -Wconversion           # silent narrowing of lengths and counters is how bounds checks fail
  -Wsign-conversion      # ditto for signed/unsigned mixes in sizes
  -Wnon-virtual-dtor     # interfaces are deleted through base pointers
  -Wold-style-cast       # casts must say what they do
  -Woverloaded-virtual   # fakes must override, not hide
  -Wnull-dereference     # catches unchecked Result dereferences the optimiser can see
  -Wimplicit-fallthrough # every switch case ends on purpose
  -Wformat=2             # printf-style calls into C libraries
)
# g++ 12 at -O3 reports -Wrestrict on plain std::string concatenation (GCC bug 105329, fixed in
# 13): a false positive in libstdc++'s inlined memcpy, not in our code. Keep it a warning there.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(aloft_warnings INTERFACE -Wno-error=restrict)
endif()
