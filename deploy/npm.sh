#!/bin/sh
# npm.sh - install deploy/'s npm packages (exact versions from
# package-lock.json) when they are missing or older than the lock file.
# Silent and fast when up to date. Needs node and npm (scripts/deps.sh).
set -eu
cd "$(dirname "$0")"
stamp=node_modules/.package-lock.json
if [ -e "$stamp" ] && [ -z "$(find package.json package-lock.json -newer "$stamp")" ]; then
	exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
