# The antlr4-runtime 4.7.2 headers that Debian 12 ships do not compile with
# clang: misc/InterpreterDataReader.h default-constructs a dfa::Vocabulary,
# whose const std::vector members make that constructor deleted (GCC
# accepts it). Neither the generated parser nor compiler/parser.cc uses that
# header, so this writes a copy of the umbrella header antlr4-runtime.h
# without it into the build tree and puts it first on the include path. The
# copy's includes of the runtime's own headers still find them through the
# runtime's include directory.

find_file(VERDICT_ANTLR_UMBRELLA_FOUND antlr4-runtime.h
          PATH_SUFFIXES antlr4-runtime REQUIRED)
file(READ ${VERDICT_ANTLR_UMBRELLA_FOUND} umbrella)
string(REPLACE "#include \"misc/InterpreterDataReader.h\"" "" umbrella_patched
       "${umbrella}")
if(umbrella STREQUAL umbrella_patched)
  message(STATUS "${VERDICT_ANTLR_UMBRELLA_FOUND} does not include "
                 "misc/InterpreterDataReader.h; no clang workaround needed")
else()
  set(shim_dir ${PROJECT_BINARY_DIR}/antlr4-clang-shim)
  file(WRITE ${shim_dir}/antlr4-runtime.h "${umbrella_patched}")
  include_directories(BEFORE SYSTEM ${shim_dir})
endif()
