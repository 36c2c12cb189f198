#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs the whole test suite.
# Extra arguments go to ctest, e.g.  scripts/test.sh -R gateway
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Real programs the tests drive: php-cli runs the seed's own PHP callback,
# curl scrapes /metrics and posts pushes, chromium (headless) runs the
# browser test page, and the cluster and offline tests start their own
# redis-server on free ports.
TEST_PACKAGES=(php-cli curl chromium redis-server)

ensure_packages "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
build_project Release -DBUILD_TESTING=ON

say "running tests"
cd "$BUILD_DIR"
# No display is needed or used: UI tests run on the offscreen platform.
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    ctest --output-on-failure --timeout 300 "$@"
