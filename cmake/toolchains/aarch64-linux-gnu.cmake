# Cross-compiling for 64-bit ARM with Debian's g++-aarch64-linux-gnu; ctest runs the tests
# under qemu-user-static. The headers typenet depends on are architecture-independent and
# found on the host; zlib is Debian's arm64 package (zlib1g-dev:arm64, multiarch).
#   cmake -S . -B build/aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# The multiarch library directory sits outside the cross root: search it as a root too.
list(APPEND CMAKE_FIND_ROOT_PATH /)
# xtensor and xsimd are header-only, but Debian puts their CMake files under the host's
# multiarch directory.
list(APPEND CMAKE_PREFIX_PATH /usr/lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu/cmake)
# NEON is part of the AArch64 baseline; no -march=native for another machine.
set(TYPENET_ARCH_FLAGS "-march=armv8-a" CACHE STRING "")
