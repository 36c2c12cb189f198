#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs Push Console.
# Arguments go to pushconsole, e.g.  scripts/run.sh --ws-port 9000
# Without a display it runs headless (the same as --no-gui).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_packages "${BUILD_PACKAGES[@]}"
build_project Release

args=("$@")
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ] \
    && [[ " ${args[*]-} " != *" --no-gui "* ]]; then
    say "no display found: starting headless (--no-gui); stop it with Ctrl+C"
    args+=(--no-gui)
fi
exec "$BUILD_DIR/app/pushconsole" "${args[@]}"
