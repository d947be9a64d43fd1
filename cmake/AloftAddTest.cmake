# aloft_add_test(NAME <name> SOURCES <files...> LIBS <targets...>)
# Builds one GoogleTest binary and registers it with CTest as one test. One process per binary,
# not per test case: fixtures such as RSA keys are made once, and process start-up (slow under
# ASan) is paid once. A failure prints the binary's full GoogleTest report.
function(aloft_add_test)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;LIBS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SOURCES})
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} aloft_warnings GTest::gtest GTest::gtest_main)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} --gtest_brief=1)
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT 600
    ENVIRONMENT "ALOFT_BIN_DIR=${CMAKE_BINARY_DIR}/bin;ALOFT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# aloft_module(<target> DIR <dir> LIBS <public deps...> [TEST_LIBS <extra test deps...>])
# One STATIC library per source folder (folder = namespace = target), built from <dir>/*.cpp;
# files ending in _test.cpp sit next to the code they test and become <target>_test.
# Explicit LIBS make the layering visible in the build graph: a module can only include
# what it links.
function(aloft_module TARGET)
  cmake_parse_arguments(ARG "" "DIR" "LIBS;TEST_LIBS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${ARG_DIR}/*.cpp)
  file(GLOB tests CONFIGURE_DEPENDS ${ARG_DIR}/*_test.cpp)
  if(tests)
    list(REMOVE_ITEM sources ${tests})
  endif()
  add_library(${TARGET} STATIC ${sources})
  target_link_libraries(${TARGET} PUBLIC ${ARG_LIBS} PRIVATE aloft_warnings)
  if(tests AND ALOFT_BUILD_TESTS)
    aloft_add_test(NAME ${TARGET}_test SOURCES ${tests} LIBS ${TARGET} ${ARG_TEST_LIBS})
  endif()
endfunction()
