#!/usr/bin/env bash
# Builds the Debian packages: installs what is missing, builds Release in
# build-package/ and writes them to dist/:
#   dist/pushconsole_<version>_<arch>.deb      headless gateway (pushgatewayd),
#                                              systemd unit, config, man pages
#   dist/pushconsole-gui_<version>_<arch>.deb  the operator console
# Then:  sudo apt install ./dist/pushconsole_*.deb
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages "${BUILD_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}"
BUILD_DIR="${PUSHCONSOLE_PACKAGE_BUILD_DIR:-$ROOT/build-package}"
# Debian's hardening flags, all of them (as dpkg-buildflags gives them with
# hardening=+all): fortify, stack protector, PIE, RELRO and BIND_NOW.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
build_project Release -DBUILD_TESTING=OFF \
    -DCMAKE_CXX_FLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
    -DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)"
say "packaging"
rm -rf "$BUILD_DIR/cpack"
(cd "$BUILD_DIR" && cpack -G DEB -B "$BUILD_DIR/cpack")
mkdir -p "$ROOT/dist"
rm -f "$ROOT"/dist/pushconsole*.deb
cp "$BUILD_DIR"/cpack/*.deb "$ROOT/dist/"
say "packages:"
ls -l "$ROOT"/dist/*.deb
