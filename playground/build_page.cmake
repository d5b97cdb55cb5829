# Builds the playground page and embeds it: installs the pinned npm
# packages (web/setup.sh, which runs npm ci only when WORK lacks them),
# bundles web/ with esbuild (web/build.mjs), then writes OUTPUT with
# embed_files.cmake. When npm ci or esbuild fails, OUTPUT embeds no page
# and the reason instead, and the build goes on: `verdict playground` then
# exits with that reason. Run as a script:
#
#   cmake -DSOURCE=<playground/web> -DWORK=<dir> -DOUTPUT=<file.cc> -P build_page.cmake

set(embed ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)

execute_process(
  COMMAND bash ${SOURCE}/setup.sh ${WORK}
  RESULT_VARIABLE setup_result
  OUTPUT_VARIABLE setup_output
  ERROR_VARIABLE setup_output)
set(reason "")
if(NOT setup_result EQUAL 0)
  string(STRIP "${setup_output}" setup_output)
  set(reason "npm ci failed in ${WORK}: ${setup_output}")
else()
  execute_process(
    COMMAND node ${SOURCE}/build.mjs ${WORK}/node_modules ${WORK}/dist
    RESULT_VARIABLE bundle_result
    OUTPUT_VARIABLE bundle_output
    ERROR_VARIABLE bundle_output)
  if(NOT bundle_result EQUAL 0)
    string(STRIP "${bundle_output}" bundle_output)
    set(reason "esbuild failed to bundle ${SOURCE}: ${bundle_output}")
  endif()
endif()

# The reason is passed on a command line and shown on one line, so list
# separators and line breaks become plain punctuation, and a long tool
# output keeps its end, where the error is.
string(REPLACE ";" "," reason "${reason}")
string(REGEX REPLACE "[\r\n]+" " " reason "${reason}")
string(LENGTH "${reason}" reason_length)
if(reason_length GREATER 1200)
  math(EXPR tail_start "${reason_length} - 1000")
  string(SUBSTRING "${reason}" ${tail_start} -1 reason_tail)
  string(SUBSTRING "${reason}" 0 150 reason_head)
  set(reason "${reason_head} ... ${reason_tail}")
endif()

if(reason STREQUAL "")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DKIND=page -DROOT=${WORK}/dist -DOUTPUT=${OUTPUT}
            -P ${embed}
    COMMAND_ERROR_IS_FATAL ANY)
else()
  message(WARNING
    "The playground page was not built, so `verdict playground` will exit "
    "with this reason: ${reason}\n"
    "Fix the cause (npm ci needs the npm registry the first time), then "
    "delete ${OUTPUT} and build again.")
  execute_process(
    COMMAND ${CMAKE_COMMAND} -DKIND=page -DREASON=${reason} -DOUTPUT=${OUTPUT}
            -P ${embed}
    COMMAND_ERROR_IS_FATAL ANY)
endif()
