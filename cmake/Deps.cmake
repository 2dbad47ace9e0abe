# Every dependency comes from Debian's packages (see deploy/install-deps.sh).
# validators/ uses std::expected. g++ 12 has it; clang 14 with libstdc++ 12 (the fuzz preset on
# Debian 12) does not, so that build leaves validators/ out (see CMakeLists.txt).
include(CheckCXXSourceCompiles)
set(CMAKE_REQUIRED_FLAGS "-std=c++2b")
check_cxx_source_compiles("#include <expected>
int main() { std::expected<int, int> e{1}; return *e - 1; }" GW_HAVE_STD_EXPECTED)
unset(CMAKE_REQUIRED_FLAGS)

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent_core libevent_extra libevent_pthreads)
find_package(OpenSSL 3 REQUIRED)
find_package(RapidJSON REQUIRED CONFIG)
find_package(yaml-cpp REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2)

# valijson: Debian's libvalijson-dev drags in Qt5/Poco/MariaDB through hard Depends, so
# install-deps.sh unpacks the .deb (headers + CMake config only) into .deps/ when the package
# itself is not installed.
list(APPEND CMAKE_PREFIX_PATH "${CMAKE_SOURCE_DIR}/.deps/valijson/usr")
find_package(valijson CONFIG)
if(NOT valijson_FOUND)
  message(FATAL_ERROR "valijson not found: run `bash deploy/install-deps.sh` first (it unpacks Debian's "
                      "libvalijson-dev into .deps/), or install libvalijson-dev")
endif()

if(GW_MALLOC STREQUAL "mimalloc")
  # Debian's libmimalloc-dev: a shared library that overrides malloc/free for the whole process
  # (OpenSSL, libevent and nghttp2 allocations included) once it is linked into the executable.
  find_package(mimalloc 2 CONFIG REQUIRED)
elseif(NOT GW_MALLOC STREQUAL "system")
  message(FATAL_ERROR "GW_MALLOC must be mimalloc or system, not '${GW_MALLOC}'")
endif()

# http-parser ships neither a .pc file nor a CMake config.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(http_parser::http_parser UNKNOWN IMPORTED)
set_target_properties(http_parser::http_parser PROPERTIES
  IMPORTED_LOCATION "${HTTP_PARSER_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${HTTP_PARSER_INCLUDE_DIR}")

if(GW_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(GW_BUILD_BENCH)
  find_package(benchmark QUIET)
  if(NOT benchmark_FOUND)
    set(GW_BUILD_BENCH OFF)
  endif()
endif()
