#!/usr/bin/env bash
# tst_jsclient_node: the client module's own logic under Node (a fake
# WebSocket, no npm packages). Node is looked up when the test runs, not
# when CMake configures.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/../require_program.sh"
require_program node || finish_test
node "$HERE/jsclient.test.mjs"
