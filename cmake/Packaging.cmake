# Debian packages with CPack (scripts/package.sh): two of them from one build.
#   pushconsole      the headless gateway for servers: pushgatewayd, the
#                    systemd unit, /etc/pushconsole/pushconsole.ini (written
#                    by pushgatewayd --help-ini), man pages;
#                    Qt Core/Network/Sql only, no Widgets, no X11.
#   pushconsole-gui  the operator console (pushconsole), its desktop entry and
#                    icon; pulls Qt Widgets and the display libraries.
# Dependencies come from dpkg-shlibdeps; redis-server is only suggested.
include(GNUInstallDirs)

set(pushconsole_pkg_dir ${PROJECT_SOURCE_DIR}/packaging)
set(pushconsole_doc_dir ${CMAKE_INSTALL_DATADIR}/doc)

# The systemd unit and the config the unit reads.
# /lib, not /usr/lib: Debian 12 keeps units there until its /usr merge is done.
install(FILES ${PROJECT_SOURCE_DIR}/resources/pushconsole.service
    DESTINATION /lib/systemd/system COMPONENT server)
# The config is written by the built program (--help-ini: every option,
# commented out, with its help and default) with the service's own values
# set: the offline store in the unit's StateDirectory.
set(pushconsole_service_ini ${CMAKE_BINARY_DIR}/pushconsole.ini)
add_custom_command(OUTPUT ${pushconsole_service_ini}
    COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C LANG=C LANGUAGE= $<TARGET_FILE:pushgatewayd>
        --help-ini --offline-db=/var/lib/pushconsole/offline.sqlite > ${pushconsole_service_ini}
    DEPENDS pushgatewayd
    COMMENT "Writing /etc/pushconsole/pushconsole.ini (pushgatewayd --help-ini)"
    VERBATIM)
add_custom_target(service_ini ALL DEPENDS ${pushconsole_service_ini})
install(FILES ${pushconsole_service_ini} DESTINATION /etc/pushconsole COMPONENT server)

# Manual pages: generated from the program's own --help (the option table),
# so they never disagree with it. Needs help2man (Debian package help2man).
find_program(HELP2MAN help2man)
if(HELP2MAN)
    set(pushconsole_man ${CMAKE_BINARY_DIR}/man)
    add_custom_command(OUTPUT ${pushconsole_man}/pushconsole.1.gz
        COMMAND ${CMAKE_COMMAND} -E make_directory ${pushconsole_man}
        COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C LANG=C QT_QPA_PLATFORM=offscreen
            ${HELP2MAN} --no-info --section=1 "--source=pushconsole ${PROJECT_VERSION}"
            --include=${pushconsole_pkg_dir}/pushconsole.h2m
            --output=${pushconsole_man}/pushconsole.1 $<TARGET_FILE:pushgatewayd>
        COMMAND gzip -9nf ${pushconsole_man}/pushconsole.1
        DEPENDS pushgatewayd ${pushconsole_pkg_dir}/pushconsole.h2m
        COMMENT "Generating the pushconsole(1) manual page"
        VERBATIM)
    # pushgatewayd(1) and the console are the same program and options.
    add_custom_command(OUTPUT ${pushconsole_man}/pushgatewayd.1.gz
        COMMAND ${CMAKE_COMMAND} -E echo ".so man1/pushconsole.1" > ${pushconsole_man}/pushgatewayd.1
        COMMAND gzip -9nf ${pushconsole_man}/pushgatewayd.1
        COMMENT "Generating the pushgatewayd(1) manual page"
        VERBATIM)
    add_custom_target(manpages ALL
        DEPENDS ${pushconsole_man}/pushconsole.1.gz ${pushconsole_man}/pushgatewayd.1.gz)
    # Both in the server package, which the console's depends on: "man
    # pushconsole" works on a server without the console.
    install(FILES ${pushconsole_man}/pushconsole.1.gz ${pushconsole_man}/pushgatewayd.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)
endif()

# Debian wants a copyright file and a compressed changelog in each package's
# doc folder.
set(pushconsole_changelog ${CMAKE_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${pushconsole_changelog}
    COMMAND gzip -9nc ${pushconsole_pkg_dir}/debian/changelog > ${pushconsole_changelog}
    DEPENDS ${pushconsole_pkg_dir}/debian/changelog
    VERBATIM)
add_custom_target(debian_changelog ALL DEPENDS ${pushconsole_changelog})
foreach(pair IN ITEMS "server;pushconsole" "console;pushconsole-gui")
    list(GET pair 0 component)
    list(GET pair 1 package)
    install(FILES ${pushconsole_pkg_dir}/debian/copyright ${pushconsole_changelog}
        DESTINATION ${pushconsole_doc_dir}/${package} COMPONENT ${component})
endforeach()

# Lintian cannot see that the console's manual page comes with its
# dependency.
install(FILES ${pushconsole_pkg_dir}/debian/pushconsole-gui.lintian-overrides
    DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME pushconsole-gui
    COMPONENT console)

# The console's desktop entry and icon.
install(FILES ${PROJECT_SOURCE_DIR}/resources/pushconsole.desktop
    DESTINATION ${CMAKE_INSTALL_DATADIR}/applications COMPONENT console)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/pushconsole.svg
    DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps COMPONENT console)

set(CPACK_GENERATOR DEB)
# Each package's description below starts with its own synopsis line; the
# default summary tells CPack not to put the project's in front of it.
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${CMAKE_PROJECT_NAME} built using CMake")
set(CPACK_PACKAGE_NAME pushconsole)
set(CPACK_PACKAGE_VENDOR "Push Console")
set(CPACK_PACKAGE_CONTACT "Push Console maintainers <maintainers@pushconsole.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL server console)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/pushconsole/pushconsole")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
# SQLite is loaded as a Qt plugin at run time: dpkg-shlibdeps cannot see it.
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "libqt6sql6-sqlite, adduser")
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME pushconsole)
set(CPACK_DEBIAN_SERVER_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_SERVER_DESCRIPTION "real-time uid push gateway (headless server)
Push Console delivers a backend's JSON line, written to an inner TCP port
or POSTed to its HTTP API, at once to every WebSocket of the user with
that uid. It is a drop-in replacement for a PHP Workerman push setup:
backends keep speaking the same line protocol.

This package holds the headless gateway (pushgatewayd), its hardened
systemd unit (installed, not enabled), its configuration file and manual
pages. It needs no display libraries. Several gateways form a cluster
through a Redis server.")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    ${pushconsole_pkg_dir}/debian/conffiles
    ${pushconsole_pkg_dir}/debian/postinst
    ${pushconsole_pkg_dir}/debian/prerm
    ${pushconsole_pkg_dir}/debian/postrm)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_CONSOLE_PACKAGE_NAME pushconsole-gui)
set(CPACK_DEBIAN_CONSOLE_PACKAGE_SECTION net)
# The server package brings the manual page and the service, disabled.
set(CPACK_DEBIAN_CONSOLE_PACKAGE_DEPENDS
    "pushconsole (= ${PROJECT_VERSION}), libqt6sql6-sqlite, libqt6svg6, qt6-qpa-plugins")
set(CPACK_DEBIAN_CONSOLE_PACKAGE_SUGGESTS "redis-server")
set(CPACK_DEBIAN_CONSOLE_DESCRIPTION "real-time uid push gateway with an operator console
Push Console delivers a backend's JSON line, written to an inner TCP port
or POSTed to its HTTP API, at once to every WebSocket of the user with
that uid.

This package holds the operator console (pushconsole): a Qt window that
shows live connections and the message log and pushes by hand, with the
gateway inside. pushconsole --no-gui runs the same gateway headless.")
include(CPack)
