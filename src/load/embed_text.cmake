# cmake -DINPUT=file -DOUTPUT=header -DNAME=identifier -P embed_text.cmake
# Writes a header defining `inline constexpr std::string_view NAME` with INPUT's exact bytes, as a
# raw string literal (no xxd needed). Fails if the file contains the literal's closing delimiter.
file(READ "${INPUT}" content)
string(FIND "${content}" ")netres_embed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains )netres_embed\" and cannot be embedded as a raw string")
endif()
get_filename_component(source "${INPUT}" NAME)
set(text "// Generated from ${source} by embed_text.cmake: do not edit.\n#pragma once\n\n#include <string_view>\n\ninline constexpr std::string_view ${NAME} = R\"netres_embed(${content})netres_embed\";\n")
# Rewrite only on change, so an unchanged page does not recompile its users.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${text}")
