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
