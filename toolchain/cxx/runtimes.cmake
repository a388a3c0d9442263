# The C++ runtime with exceptions for wasm32 side modules (docs/toolchain.md, "C++
# exceptions"): libc++, libc++abi and libunwind from Debian's llvm-toolchain-22 sources, built
# by `wheelforge toolchain install` (src/toolchain/cxx.rs) with LLVM's own runtimes build:
#
#   cmake -C runtimes.cmake -S SOURCE/runtimes -B BUILD -G Ninja
#
# Static, position-independent archives whose symbols are all hidden (a private copy in every
# C++ module, beside the consumer's libc++ without exceptions), compiled with standard
# (exnref) WebAssembly exception handling. Otherwise configured as the consumer's libc++ is:
# no threads, no file system, no shared libraries. @VARIABLES@ are filled in at install.
set(CMAKE_SYSTEM_NAME WASI CACHE STRING "")
set(CMAKE_SYSTEM_PROCESSOR wasm32 CACHE STRING "")
# CMake has no WASI platform file; LLVM's build needs to know it is a Unix.
set(UNIX 1 CACHE BOOL "")
set(CMAKE_C_COMPILER @CLANG@ CACHE FILEPATH "")
set(CMAKE_CXX_COMPILER @CLANGXX@ CACHE FILEPATH "")
set(CMAKE_AR @AR@ CACHE FILEPATH "")
set(CMAKE_RANLIB @RANLIB@ CACHE FILEPATH "")
set(CMAKE_C_COMPILER_TARGET @TRIPLE@ CACHE STRING "")
set(CMAKE_CXX_COMPILER_TARGET @TRIPLE@ CACHE STRING "")
set(CMAKE_SYSROOT @SYSROOT@ CACHE PATH "")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY CACHE STRING "")
set(CMAKE_BUILD_TYPE Release CACHE STRING "")
set(CMAKE_INSTALL_PREFIX @PREFIX@ CACHE PATH "")
set(CMAKE_POSITION_INDEPENDENT_CODE ON CACHE BOOL "")
set(CMAKE_C_FLAGS "@EH_FLAGS@" CACHE STRING "")
set(CMAKE_CXX_FLAGS "@EH_FLAGS@" CACHE STRING "")

set(LLVM_ENABLE_RUNTIMES "libunwind;libcxxabi;libcxx" CACHE STRING "")
set(LLVM_INCLUDE_TESTS OFF CACHE BOOL "")
set(LLVM_INCLUDE_DOCS OFF CACHE BOOL "")

set(LIBUNWIND_ENABLE_SHARED OFF CACHE BOOL "")
set(LIBUNWIND_ENABLE_THREADS OFF CACHE BOOL "")
set(LIBUNWIND_USE_COMPILER_RT ON CACHE BOOL "")
set(LIBUNWIND_HIDE_SYMBOLS ON CACHE BOOL "")
set(LIBUNWIND_INCLUDE_TESTS OFF CACHE BOOL "")

set(LIBCXXABI_ENABLE_SHARED OFF CACHE BOOL "")
set(LIBCXXABI_ENABLE_THREADS OFF CACHE BOOL "")
set(LIBCXXABI_ENABLE_EXCEPTIONS ON CACHE BOOL "")
set(LIBCXXABI_USE_LLVM_UNWINDER ON CACHE BOOL "")
set(LIBCXXABI_USE_COMPILER_RT ON CACHE BOOL "")
set(LIBCXXABI_HERMETIC_STATIC_LIBRARY ON CACHE BOOL "")
set(LIBCXXABI_INCLUDE_TESTS OFF CACHE BOOL "")
# std::terminate prints the mangled type name: the demangler would add about 100 KB to
# every C++ module.
set(LIBCXXABI_NON_DEMANGLING_TERMINATE ON CACHE BOOL "")

set(LIBCXX_ENABLE_SHARED OFF CACHE BOOL "")
set(LIBCXX_ENABLE_THREADS OFF CACHE BOOL "")
set(LIBCXX_ENABLE_EXCEPTIONS ON CACHE BOOL "")
set(LIBCXX_ENABLE_FILESYSTEM OFF CACHE BOOL "")
set(LIBCXX_CXX_ABI libcxxabi CACHE STRING "")
# As Debian's and wasi-sdk's libc++ for wasm32 (std::__2).
set(LIBCXX_ABI_VERSION 2 CACHE STRING "")
set(LIBCXX_ENABLE_TIME_ZONE_DATABASE ON CACHE BOOL "")
set(LIBCXX_USE_COMPILER_RT ON CACHE BOOL "")
set(LIBCXX_HAS_MUSL_LIBC ON CACHE BOOL "")
set(LIBCXX_HERMETIC_STATIC_LIBRARY ON CACHE BOOL "")
set(LIBCXX_INCLUDE_TESTS OFF CACHE BOOL "")
set(LIBCXX_INCLUDE_BENCHMARKS OFF CACHE BOOL "")
