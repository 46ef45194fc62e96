#!/bin/sh
# tests/mcp/install.sh - install the MCP TypeScript SDK (exact versions, from
# package-lock.json) that tests/integration/test_mcp_sdk.py drives deskboxd's
# /mcp with. Idempotent and fast when node_modules is current.
# tests/mcp/node_modules/ is build output, never committed.
set -eu
cd "$(dirname "$0")"
newer() { # newer A B: A exists and is newer than B
	[ -e "$1" ] && [ -z "$(find "$2" -newer "$1" 2>/dev/null)" ]
}
if ! newer node_modules/.package-lock.json package-lock.json ||
   ! newer node_modules/.package-lock.json package.json; then
	echo "tests/mcp/install.sh: npm ci in $(pwd)"
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.package-lock.json
fi
