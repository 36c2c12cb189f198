#!/usr/bin/env bash
# Every attack of the trust review against the built binary, in one run:
# the WebSocket side (ping flood, silent connections, slow consumer;
# bench/attack-ws.sh) and the HTTP API (pipelined unread requests, idle
# connections, slowloris; bench/attack-http.sh). Each prints the server's
# RSS growth next to the cap that bounds it; see bench/README.md for the
# figures before and after the fixes.
#   bench/attack.sh [BINARY]      default: build/app/pushconsole
# Exits non-zero when a scenario's growth reaches twice its cap.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINARY="${1:-$ROOT/build/app/pushconsole}"
status=0
echo "==> WebSocket port"
"$ROOT/bench/attack-ws.sh" --binary "$BINARY" || status=1
echo "==> HTTP API"
"$ROOT/bench/attack-http.sh" "$BINARY" || status=1
exit "$status"
