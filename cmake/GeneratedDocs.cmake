# The files written from the program's own tables, checked or written again:
#   cmake -DBINARY=<pushgatewayd> -DSOURCE_DIR=<repo> -DMODE=check|update
#         [-DWORK_DIR=<scratch dir>] -P GeneratedDocs.cmake
# check (ctest tst_docs) fails when one differs from what the binary prints;
# update (cmake --build build --target update_docs) writes them.
#
#   docs/options.md                     pushconsole --help-markdown  (the option table)
#   docs/metrics.md                     pushconsole --help-metrics   (the metric list)
#   resources/pushconsole.example.ini   pushconsole --help-ini
foreach(var BINARY SOURCE_DIR MODE)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "GeneratedDocs.cmake needs -D${var}=...")
    endif()
endforeach()
if(NOT DEFINED WORK_DIR)
    set(WORK_DIR "${CMAKE_CURRENT_BINARY_DIR}")
endif()

set(generated
    "docs/options.md=--help-markdown"
    "docs/metrics.md=--help-metrics"
    "resources/pushconsole.example.ini=--help-ini")
set(stale "")
foreach(entry IN LISTS generated)
    string(REPLACE "=" ";" pair "${entry}")
    list(GET pair 0 file)
    list(GET pair 1 flag)
    # English whatever the machine's locale (not --lang: the INI file would
    # get it as a setting).
    execute_process(
        COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C LANG=C LANGUAGE= ${BINARY} ${flag}
        OUTPUT_VARIABLE text
        ERROR_VARIABLE errors
        RESULT_VARIABLE status)
    if(NOT status EQUAL 0 OR text STREQUAL "")
        message(FATAL_ERROR "${BINARY} ${flag} failed (${status}): ${errors}")
    endif()
    set(path "${SOURCE_DIR}/${file}")
    set(current "")
    if(EXISTS "${path}")
        file(READ "${path}" current)
    endif()
    if(current STREQUAL text)
        continue()
    endif()
    if(MODE STREQUAL "update")
        file(WRITE "${path}" "${text}")
        message(STATUS "wrote ${file} (pushconsole ${flag})")
        continue()
    endif()
    list(APPEND stale "${file}")
    # What differs, to see why without running anything else.
    find_program(DIFF diff)
    if(DIFF)
        get_filename_component(name "${file}" NAME)
        set(fresh "${WORK_DIR}/${name}.generated")
        file(WRITE "${fresh}" "${text}")
        execute_process(COMMAND ${DIFF} -u "${path}" "${fresh}" OUTPUT_VARIABLE changes)
        message("${file} differs from pushconsole ${flag}:\n${changes}")
    endif()
endforeach()
if(stale)
    list(JOIN stale ", " names)
    message(FATAL_ERROR "stale: ${names}; write them again with "
        "cmake --build build --target update_docs")
endif()
