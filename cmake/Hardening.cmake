# Hardening of every binary (SPEC §15): the binary that holds the master key gets ASLR (PIE), full
# RELRO (-z relro -z now: the GOT is read-only after start), stack canaries, stack-clash probes,
# CET branch protection and, in optimised builds, _FORTIFY_SOURCE=2 (it needs the optimiser).
# The price is start-up relocations (bench/README.md has the measured cost); packed relative
# relocations (DT_RELR, binutils >= 2.38, glibc >= 2.36) shrink the table the loader walks.
include(CheckPIESupported)
include(CheckLinkerFlag)

check_pie_supported(OUTPUT_VARIABLE lockbox_pie_output LANGUAGES CXX)
if(NOT CMAKE_CXX_LINK_PIE_SUPPORTED)
  message(FATAL_ERROR "lockbox must be linked as PIE, which this toolchain does not support:\n"
                      "${lockbox_pie_output}")
endif()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)

add_compile_options(-fstack-protector-strong -fstack-clash-protection -fcf-protection)
# Optimised configurations only (FORTIFY needs -O1 or more); -U first in case the compiler already
# defines another level.
add_compile_options(
  "$<$<CONFIG:Release,RelWithDebInfo,MinSizeRel>:-U_FORTIFY_SOURCE;-D_FORTIFY_SOURCE=2>")
add_link_options(-Wl,-z,relro,-z,now -Wl,-z,noexecstack)

check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" LOCKBOX_HAVE_PACK_RELATIVE_RELOCS)
if(LOCKBOX_HAVE_PACK_RELATIVE_RELOCS)
  add_link_options(-Wl,-z,pack-relative-relocs)
endif()
