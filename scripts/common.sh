# Shared by scripts/run.sh and scripts/test.sh: install what is missing,
# configure and build. Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${PUSHCONSOLE_BUILD_DIR:-$ROOT/build}"

# What building and running the console needs, as Debian 12 packages.
BUILD_PACKAGES=(
    cmake ninja-build g++ pkg-config
    qt6-base-dev qt6-websockets-dev qt6-tools-dev qt6-tools-dev-tools
    qt6-l10n-tools qt6-translations-l10n qt6-qpa-plugins libqt6svg6 libgl-dev libssl-dev
    libhiredis-dev libqt6sql6-sqlite
    help2man  # the manual page, generated from --help
    fonts-noto-cjk
    libjwt-dev libssl-dev   # signed uid tokens (libjwt, and OpenSSL to read keys)
)

# What building the Debian packages needs besides (scripts/package.sh).
PACKAGE_PACKAGES=(help2man dpkg-dev fakeroot)

say() { printf '==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "error: need root (or sudo) to install: $*" >&2
        exit 1
    fi
}

# Installs only the packages that are not installed yet; no apt-get at all
# when nothing is missing, so a second run starts at once and offline.
ensure_packages() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build_project() {
    local build_type="${1:-Release}"
    shift || true
    say "configuring ($build_type) in $BUILD_DIR"
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" "$@" >/dev/null
    say "building"
    cmake --build "$BUILD_DIR" --parallel "$(nproc)"
}
