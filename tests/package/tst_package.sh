#!/usr/bin/env bash
# The Debian packages, checked as an admin would meet them. Run by ctest:
#   tst_package.sh BUILD_DIR SOURCE_DIR
# 1. cpack builds both packages from this build;
# 2. their file lists and control fields are what docs/operations.md says
#    (the server package pulls no Widgets/X11 library, redis-server is only
#    suggested, the INI is a conffile);
# 3. lintian reports no error and no warning;
# 4. the server package, extracted with dpkg-deb -x, starts against its own
#    INI and listens; systemd-analyze verify accepts the unit;
# 5. as root on a machine without pushconsole installed (CI): install,
#    change the INI, upgrade to a newer version, check the change survived,
#    the system user exists and the new binary runs; then purge.
# A program a step needs that is missing skips that step outside CI (the
# test then ends skipped, exit 77) and fails the test in CI
# (tests/require_program.sh).
set -euo pipefail
BUILD_DIR="$(cd "$1" && pwd)"
SOURCE_DIR="$(cd "$2" && pwd)"
source "$SOURCE_DIR/tests/require_program.sh"
WORK="$(mktemp -d)"
GATEWAY_PID=""
cleanup() {
    [ -n "$GATEWAY_PID" ] && kill "$GATEWAY_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "---- $*"; }

step "cpack"
(cd "$BUILD_DIR" && cpack -G DEB -B "$WORK/v1" >"$WORK/cpack.log" 2>&1) || { cat "$WORK/cpack.log"; fail "cpack"; }
VERSION="$(sed -n 's/^CPACK_PACKAGE_VERSION:STRING=//p' "$BUILD_DIR/CMakeCache.txt")"
[ -n "$VERSION" ] || VERSION="$(dpkg-deb -f "$WORK"/v1/pushconsole_*.deb Version)"
ARCH="$(dpkg --print-architecture)"
SERVER="$WORK/v1/pushconsole_${VERSION}_${ARCH}.deb"
GUI="$WORK/v1/pushconsole-gui_${VERSION}_${ARCH}.deb"
[ -f "$SERVER" ] || fail "no $SERVER (have: $(ls "$WORK/v1"))"
[ -f "$GUI" ] || fail "no $GUI"

step "file lists"
dpkg-deb -c "$SERVER" | awk '{print $NF}' | sed 's|^\./|/|' >"$WORK/server.list"
dpkg-deb -c "$GUI" | awk '{print $NF}' | sed 's|^\./|/|' >"$WORK/gui.list"
for f in /usr/bin/pushgatewayd /lib/systemd/system/pushconsole.service \
    /etc/pushconsole/pushconsole.ini /usr/share/man/man1/pushconsole.1.gz \
    /usr/share/man/man1/pushgatewayd.1.gz /usr/share/doc/pushconsole/copyright \
    /usr/share/doc/pushconsole/changelog.gz; do
    grep -qx "$f" "$WORK/server.list" || fail "server package lacks $f"
done
for f in /usr/bin/pushconsole /usr/share/applications/pushconsole.desktop \
    /usr/share/icons/hicolor/scalable/apps/pushconsole.svg /usr/share/doc/pushconsole-gui/copyright; do
    grep -qx "$f" "$WORK/gui.list" || fail "console package lacks $f"
done
grep -q '/usr/bin/pushconsole$' "$WORK/server.list" && fail "the console binary is in the server package"
grep -q 'pushgatewayd$' "$WORK/gui.list" && fail "the gateway binary is in the console package"

step "control fields"
depends="$(dpkg-deb -f "$SERVER" Depends)"
echo "server Depends: $depends"
for lib in libqt6core6 libqt6network6 libhiredis libjwt0 libqt6sql6-sqlite adduser; do
    grep -q "$lib" <<<"$depends" || fail "server Depends lacks $lib"
done
grep -Eq 'libqt6widgets|libqt6gui|libx11|libxcb|libgl' <<<"$depends" && fail "server package pulls display libraries: $depends"
grep -Eq '(^|[ ,])redis-server' <<<"$depends" && fail "redis-server must be suggested, not required"
[ "$(dpkg-deb -f "$SERVER" Suggests)" = "redis-server" ] || fail "Suggests: $(dpkg-deb -f "$SERVER" Suggests)"
gui_depends="$(dpkg-deb -f "$GUI" Depends)"
grep -q libqt6widgets6 <<<"$gui_depends" || fail "console Depends lacks Qt Widgets: $gui_depends"
grep -q "pushconsole (= $VERSION)" <<<"$gui_depends" || fail "console does not depend on its server package"
dpkg-deb --ctrl-tarfile "$SERVER" | tar -xO ./conffiles >"$WORK/conffiles"
grep -qx /etc/pushconsole/pushconsole.ini "$WORK/conffiles" || fail "the INI is not a conffile"
[ "$(dpkg-deb -f "$SERVER" Section)" = net ] || fail "Section"

step "lintian"
if require_program lintian; then
    lintian --allow-root "$SERVER" "$GUI" >"$WORK/lintian.out" 2>&1 || true
    cat "$WORK/lintian.out"
    grep -E '^[EW]: ' "$WORK/lintian.out" && fail "lintian errors or warnings"
fi

step "extracted binary against the shipped INI"
ROOTFS="$WORK/root"
dpkg-deb -x "$SERVER" "$ROOTFS"
"$ROOTFS/usr/bin/pushgatewayd" --version | grep -qx "pushconsole $VERSION" || fail "--version"
# The shipped INI is the program's own --help-ini with the service's values:
# every option commented out with its default, the offline store in the
# unit's StateDirectory.
LC_ALL=C LANG=C LANGUAGE= "$ROOTFS/usr/bin/pushgatewayd" --help-ini \
    --offline-db=/var/lib/pushconsole/offline.sqlite >"$WORK/expected.ini" || fail "--help-ini"
cmp -s "$WORK/expected.ini" "$ROOTFS/etc/pushconsole/pushconsole.ini" \
    || fail "the shipped INI is not pushgatewayd --help-ini"
grep -qx 'offline-db=/var/lib/pushconsole/offline.sqlite' "$ROOTFS/etc/pushconsole/pushconsole.ini" \
    || fail "the shipped INI does not put the offline store in /var/lib/pushconsole"
grep -qx ';ws-port=8013' "$ROOTFS/etc/pushconsole/pushconsole.ini" || fail "options not listed"
# The shipped ports, moved to free ones: other tests may run at the same time.
"$ROOTFS/usr/bin/pushgatewayd" --config "$ROOTFS/etc/pushconsole/pushconsole.ini" \
    --ws-port 0 --text-port 0 --http-port 0 --offline-db "$WORK/offline.sqlite" \
    >"$WORK/gateway.log" 2>&1 &
GATEWAY_PID=$!
for _ in $(seq 100); do
    grep -q ' listening ' "$WORK/gateway.log" && break
    kill -0 "$GATEWAY_PID" 2>/dev/null || break
    sleep 0.1
done
grep ' listening ' "$WORK/gateway.log" || { cat "$WORK/gateway.log"; fail "did not listen"; }
kill -TERM "$GATEWAY_PID"
wait "$GATEWAY_PID" || fail "exit status $? after SIGTERM"
GATEWAY_PID=""

step "systemd-analyze verify"
if require_program systemd-analyze; then
    # The unit as shipped, pointed at the extracted binary and manual page
    # (verify checks that ExecStart exists and Documentation= resolves).
    sed "s|/usr/bin/pushgatewayd|$ROOTFS/usr/bin/pushgatewayd|" \
        "$ROOTFS/lib/systemd/system/pushconsole.service" >"$WORK/pushconsole.service"
    if ! MANPATH="$ROOTFS/usr/share/man" systemd-analyze verify "$WORK/pushconsole.service" \
        >"$WORK/verify.out" 2>&1; then
        cat "$WORK/verify.out"
        fail "systemd-analyze verify"
    fi
    cat "$WORK/verify.out"
fi

step "install, upgrade, purge"
if [ "$(id -u)" -ne 0 ] || dpkg-query -W pushconsole >/dev/null 2>&1 \
    || [ "${PUSHCONSOLE_TEST_DPKG:-1}" = 0 ]; then
    # Not a missing program: a machine where installing is not the test's to do.
    echo "SKIP: needs root and no pushconsole installed (CI has both)"
    finish_test
fi
NEXT="${VERSION}.1"
(cd "$BUILD_DIR" && cpack -G DEB -B "$WORK/v2" -D CPACK_PACKAGE_VERSION="$NEXT" >"$WORK/cpack2.log" 2>&1) \
    || { cat "$WORK/cpack2.log"; fail "cpack $NEXT"; }
purge() { dpkg --purge pushconsole >/dev/null 2>&1 || true; }
trap 'purge; cleanup' EXIT
DEBIAN_FRONTEND=noninteractive dpkg -i "$SERVER" || fail "dpkg -i $VERSION"
getent passwd pushconsole >/dev/null || fail "no pushconsole system user"
[ "$(stat -c %G /etc/pushconsole/pushconsole.ini)" = pushconsole ] || fail "INI not readable by the service's group"
echo "; changed by the admin" >>/etc/pushconsole/pushconsole.ini
DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$WORK/v2/pushconsole_${NEXT}_${ARCH}.deb" \
    || fail "upgrade to $NEXT"
[ "$(dpkg-query -W -f='${Version}' pushconsole)" = "$NEXT" ] || fail "not upgraded"
grep -q "changed by the admin" /etc/pushconsole/pushconsole.ini || fail "the upgrade lost the admin's change"
/usr/bin/pushgatewayd --version >/dev/null || fail "the installed binary does not run"
man -w pushconsole >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man pushconsole"
dpkg --purge pushconsole || fail "purge"
[ ! -e /etc/pushconsole/pushconsole.ini ] || fail "purge left the INI"
[ ! -e /usr/bin/pushgatewayd ] || fail "purge left the binary"
finish_test
