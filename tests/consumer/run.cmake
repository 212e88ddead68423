# Builds and runs tests/consumer against typenet found by MODE: find_package (after
# installing typenet to a prefix) or add_subdirectory.
file(REMOVE_RECURSE ${WORK})
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
endfunction()
set(consumer_args -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release)
if(MODE STREQUAL "add_subdirectory")
  # A user's Debug build for their own machine: -O0, where some of g++'s intrinsics are
  # macros, so code that compiles at -O2 can fail to (ARCH: the tests' flags).
  set(consumer_args -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS=${ARCH}")
endif()
if(MODE STREQUAL "find_package")
  run(${CMAKE_COMMAND} -S ${SOURCE} -B ${WORK}/typenet -DTYPENET_BUILD_TESTS=OFF -DTYPENET_BUILD_EXAMPLES=OFF ${consumer_args})
  run(${CMAKE_COMMAND} --build ${WORK}/typenet)  # the typenet_embed tool is installed too
  run(${CMAKE_COMMAND} --install ${WORK}/typenet --prefix ${WORK}/prefix)
  list(APPEND consumer_args -DCMAKE_PREFIX_PATH=${WORK}/prefix)
else()
  list(APPEND consumer_args -DTYPENET_SOURCE=${SOURCE})
endif()
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/consumer -B ${WORK}/consumer ${consumer_args})
run(${CMAKE_COMMAND} --build ${WORK}/consumer)
run(${WORK}/consumer/consumer)
message(STATUS "consumer (${MODE}) built and ran")
