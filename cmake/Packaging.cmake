# What `cmake --install` and `cpack -G DEB` ship (SPEC §16): the binary, the man page lockbox(1)
# (generated from docs/CLI.md by scripts/gen-man.sh), the bash/zsh/fish completions (printed by the
# binary itself, `lockbox completion SHELL`), the systemd units of packaging/, the function SDKs
# and the documentation.
include(GNUInstallDirs)

set(LOCKBOX_GEN_DIR ${PROJECT_BINARY_DIR}/generated)
add_custom_command(OUTPUT ${LOCKBOX_GEN_DIR}/lockbox.1
  COMMAND ${CMAKE_COMMAND} -E make_directory ${LOCKBOX_GEN_DIR}
  COMMAND ${PROJECT_SOURCE_DIR}/scripts/gen-man.sh ${PROJECT_SOURCE_DIR}/docs/CLI.md ${PROJECT_VERSION}
          > ${LOCKBOX_GEN_DIR}/lockbox.1
  DEPENDS ${PROJECT_SOURCE_DIR}/scripts/gen-man.sh ${PROJECT_SOURCE_DIR}/docs/CLI.md
  COMMENT "Generating lockbox.1 from docs/CLI.md" VERBATIM)
# Installed compressed, as Debian policy asks (-n: no name or time stamp, so it is reproducible).
find_program(LOCKBOX_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${LOCKBOX_GEN_DIR}/lockbox.1.gz
  COMMAND ${LOCKBOX_GZIP} -9nc ${LOCKBOX_GEN_DIR}/lockbox.1 > ${LOCKBOX_GEN_DIR}/lockbox.1.gz
  DEPENDS ${LOCKBOX_GEN_DIR}/lockbox.1 VERBATIM)
set(LOCKBOX_COMPLETIONS ${LOCKBOX_GEN_DIR}/lockbox.bash ${LOCKBOX_GEN_DIR}/_lockbox
                        ${LOCKBOX_GEN_DIR}/lockbox.fish)
add_custom_command(OUTPUT ${LOCKBOX_COMPLETIONS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${LOCKBOX_GEN_DIR}
  COMMAND $<TARGET_FILE:lockbox> completion bash > ${LOCKBOX_GEN_DIR}/lockbox.bash
  COMMAND $<TARGET_FILE:lockbox> completion zsh > ${LOCKBOX_GEN_DIR}/_lockbox
  COMMAND $<TARGET_FILE:lockbox> completion fish > ${LOCKBOX_GEN_DIR}/lockbox.fish
  DEPENDS lockbox COMMENT "Generating the shell completions" VERBATIM)
add_custom_target(lockbox_man ALL DEPENDS ${LOCKBOX_GEN_DIR}/lockbox.1.gz ${LOCKBOX_COMPLETIONS})

install(TARGETS lockbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${LOCKBOX_GEN_DIR}/lockbox.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${LOCKBOX_GEN_DIR}/lockbox.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME lockbox)
install(FILES ${LOCKBOX_GEN_DIR}/_lockbox DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)
install(FILES ${LOCKBOX_GEN_DIR}/lockbox.fish DESTINATION ${CMAKE_INSTALL_DATADIR}/fish/vendor_completions.d)
# systemd looks in /usr/lib/systemd (Debian 12 merges /lib into /usr/lib); relative to the prefix.
install(FILES ${PROJECT_SOURCE_DIR}/packaging/lockbox-serve.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/user/lockbox-agent.service DESTINATION lib/systemd/user)
install(FILES ${PROJECT_SOURCE_DIR}/sdk/js/index.mjs ${PROJECT_SOURCE_DIR}/sdk/js/index.d.ts
              ${PROJECT_SOURCE_DIR}/sdk/js/package.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lockbox/sdk/js)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/sdk/python/lockbox_secrets
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lockbox/sdk/python PATTERN __pycache__ EXCLUDE)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} PATTERN img EXCLUDE)

# cpack -G DEB (run in the build directory): lockbox_<version>_<arch>.deb.
set(CPACK_PACKAGE_NAME lockbox)
set(CPACK_PACKAGE_VENDOR "lockbox")
set(CPACK_PACKAGE_CONTACT "lockbox maintainers <lockbox@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Encrypted secrets injected into functions and jobs")
set(CPACK_PACKAGE_DESCRIPTION "lockbox stores secrets encrypted (SQLite or PostgreSQL), resolves them per
 namespace, function, group and API key, and launches functions and jobs with them in their
 environment or as files on tmpfs. It ships a REST API with a web console (lockbox serve),
 an audit trail, key rotation, shell completions and function SDKs for JavaScript and Python.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The static build (LOCKBOX_STATIC_DEPS) needs only libc; libpq5 is dlopen()ed for postgresql:// stores.
find_program(LOCKBOX_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(LOCKBOX_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libpq5, bash-completion")
set(CPACK_GENERATOR DEB)
include(CPack)
