# `cmake --install build` and `cpack` (a .deb): the binary, the migration scripts with their
# modules, their docs, the small example fixtures, the lua-language-server annotations and the
# man page. The installed layout is what the binary looks for next to itself
# (<prefix>/bin/mighost -> <prefix>/share/mighost/...), so an unpacked package works from any root.
include(GNUInstallDirs)
# `cmake --install` / `cpack` install what was built: they do not build every target first (the
# package test runs cpack from inside ctest, beside the other tests).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(MIGHOST_DATADIR ${CMAKE_INSTALL_DATADIR}/mighost)
# `mighost new` writes a .luarc.json naming the annotations: beside the binary when installed,
# else these (the source tree's for a build, the install prefix's as the last resort).
set_source_files_properties(${CMAKE_SOURCE_DIR}/host/cli/cmd_new.cpp PROPERTIES COMPILE_DEFINITIONS
  "MIGHOST_SOURCE_ANNOTATIONS=\"${CMAKE_SOURCE_DIR}/stdlib/annotations\";MIGHOST_INSTALL_ANNOTATIONS=\"${CMAKE_INSTALL_FULL_DATADIR}/mighost/annotations\"")
install(TARGETS mighost RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Scripts keep their folders: a script's own directory is on package.path, so
# require "rds_mapping.plan" finds scripts/rds_mapping/plan.lua wherever the tree is installed.
install(DIRECTORY scripts/ DESTINATION ${MIGHOST_DATADIR}/scripts FILES_MATCHING PATTERN "*.lua")
install(DIRECTORY examples/ DESTINATION ${MIGHOST_DATADIR}/examples
        FILES_MATCHING PATTERN "*.lua" PATTERN "*.sql" PATTERN "*.md" PATTERN "*.sh")
install(DIRECTORY stdlib/annotations/ DESTINATION ${MIGHOST_DATADIR}/annotations
        FILES_MATCHING PATTERN "*.lua")
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md" PATTERN "*.sh")
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES stdlib/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME lua-api.md)
install(FILES docs/mighost.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# The .deb. Depends: the runtime packages of the libraries the binary links (found by
# dpkg-shlibdeps from the binary itself, so a new link dependency cannot be forgotten);
# the sandbox (`--sandbox`, `mighost test`, `mighost sandbox`) needs a PostgreSQL server.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME mighost)
set(CPACK_PACKAGE_VENDOR "mighost")
set(CPACK_PACKAGE_CONTACT "mighost maintainers <mighost@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "PostgreSQL data migrations written as Lua scripts")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "A C++ host with embedded LuaJIT that runs PostgreSQL data migrations written as Lua\n scripts: backups, batches, checks, rollback, sandboxes and replays (mighost test).")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql-15")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
