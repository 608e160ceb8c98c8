# mighost_layer(NAME [OBJECT] [SOURCES extra...] [EXCLUDE file...] USES <target_link_libraries arguments>)
#
# Builds host/NAME/*.cpp as the static library mighost_NAME (OBJECT: an object library, for a
# layer whose files register themselves at static initialization and must all be linked). Its include root is
# build/layers/NAME, holding one entry: NAME -> host/NAME. A file writes #include "NAME/x.hpp",
# so it finds the headers of its own layer and of the layers its library links (their roots
# come with them), and nothing else: including another layer's header fails to compile.
# tests/layering proves it for every pair of layers.
#
# MIGHOST_LAYERS lists the layers; MIGHOST_LAYER_USES_<NAME> the mighost_* targets it links.
set(MIGHOST_LAYERS "" CACHE INTERNAL "")

function(mighost_layer name)
  cmake_parse_arguments(L "OBJECT" "" "SOURCES;EXCLUDE;USES" ${ARGN})
  set(root ${CMAKE_BINARY_DIR}/layers/${name})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${CMAKE_SOURCE_DIR}/host/${name} ${root}/${name} SYMBOLIC)
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/host/${name}/*.cpp)
  foreach(ex IN LISTS L_EXCLUDE)
    list(REMOVE_ITEM sources ${CMAKE_SOURCE_DIR}/host/${name}/${ex})
  endforeach()
  if(L_OBJECT)
    add_library(mighost_${name} OBJECT ${sources} ${L_SOURCES})
  else()
    add_library(mighost_${name} STATIC ${sources} ${L_SOURCES})
  endif()
  target_include_directories(mighost_${name} PUBLIC ${root})
  target_link_libraries(mighost_${name} ${L_USES})
  set(layers ${MIGHOST_LAYERS})
  list(APPEND layers ${name})
  set(MIGHOST_LAYERS ${layers} CACHE INTERNAL "")
  set(uses "")
  foreach(item IN LISTS L_USES)
    if(item MATCHES "^mighost_(.+)$" AND NOT item STREQUAL "mighost_version")
      list(APPEND uses ${CMAKE_MATCH_1})
    endif()
  endforeach()
  set(MIGHOST_LAYER_USES_${name} ${uses} CACHE INTERNAL "")
endfunction()
