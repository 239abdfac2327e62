# kq_test(NAME SOURCES... LIBS ...): a GoogleTest binary registered with CTest.
function(kq_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} kq_testing GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "KQ_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# kq_bench(NAME SOURCES... LIBS ...): a Google Benchmark binary in build/bin.
function(kq_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} benchmark::benchmark)
endfunction()
