# Hardening for every binary, the set Debian builds its packages with (dpkg-buildflags
# hardening=+all): stack canaries, stack-clash probes, control-flow protection where the CPU
# has it, checked libc calls, position-independent executables, and a read-only GOT resolved
# at start (full RELRO), so a memory bug in a parser is harder to turn into code execution.
include(CheckCXXCompilerFlag)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
foreach(flag -fstack-protector-strong -fstack-clash-protection -fcf-protection)
  string(MAKE_C_IDENTIFIER "ALOFT_HAS${flag}" var)
  check_cxx_compiler_flag(${flag} ${var})
  if(${var})
    add_compile_options(${flag})
  endif()
endforeach()
# _FORTIFY_SOURCE needs the optimiser, and its checked wrappers hide calls from ASan's
# interceptors: release builds only.
if(NOT ALOFT_SANITIZE)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_link_options(-pie -Wl,-z,relro -Wl,-z,now)
