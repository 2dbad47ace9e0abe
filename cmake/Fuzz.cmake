# gw_fuzz_target(NAME SOURCES a.cc ... LIBS lib ...)
# The target's source defines LLVMFuzzerTestOneInput. Always (with tests) builds NAME_replay, which
# feeds every file of tests/fuzz/NAME/corpus/ to that function, and registers it with ctest.
# With GW_BUILD_FUZZ (clang), also builds NAME_fuzzer, a real libFuzzer binary:
#   ./NAME_fuzzer tests/fuzz/NAME/corpus
function(gw_fuzz_target NAME)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  set(corpus "${PROJECT_SOURCE_DIR}/tests/fuzz/${NAME}/corpus")
  add_executable(${NAME}_replay ${F_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.cc)
  target_link_libraries(${NAME}_replay PRIVATE ${F_LIBS})
  add_test(NAME fuzz_replay.${NAME} COMMAND ${NAME}_replay ${corpus})
  if(GW_BUILD_FUZZ)
    add_executable(${NAME}_fuzzer ${F_SOURCES})
    target_compile_options(${NAME}_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${NAME}_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${NAME}_fuzzer PRIVATE ${F_LIBS})
  endif()
endfunction()
