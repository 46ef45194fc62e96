#!/bin/sh
# web/build.sh - install the browser UI's npm packages (exact versions, from
# package-lock.json) and copy the files the pages load into web/vendor/,
# which deskboxd serves with the rest of web/. Nothing from a CDN: every
# asset the UI needs ends up under web/.
#
#   sh web/build.sh          # from anywhere; idempotent
#   sh web/build.sh --force  # reinstall and recopy even if up to date
#
# Fast when there is nothing to do: node_modules/.package-lock.json (written
# by npm) is compared with package.json and package-lock.json, vendor/.stamp
# with node_modules and this script; nothing runs when both are newer.
#
# Needs node >= 18 and npm (Debian 12's nodejs and npm packages do).
# web/node_modules/ and web/vendor/ are build output, never committed.
set -eu

cd "$(dirname "$0")"
here=$(pwd)
force=0
[ "${1:-}" = "--force" ] && force=1

newer() { # newer A B: A exists and is newer than B
	[ -e "$1" ] && [ -z "$(find "$2" -newer "$1" 2>/dev/null)" ]
}

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
	echo "web/build.sh: node and npm are needed (apt-get install nodejs npm)" >&2
	exit 1
fi

if [ $force = 1 ] || ! newer node_modules/.package-lock.json package-lock.json ||
   ! newer node_modules/.package-lock.json package.json; then
	echo "web/build.sh: npm ci in $here"
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.package-lock.json
fi

stamp=vendor/.stamp
if [ $force = 0 ] && newer "$stamp" node_modules/.package-lock.json && newer "$stamp" build.sh; then
	exit 0
fi

echo "web/build.sh: copying into $here/vendor"
tmp=vendor.tmp.$$
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/novnc" "$tmp/xterm"

# noVNC: its ES modules (core/, which imports ../vendor/pako/) as published.
nv=node_modules/@novnc/novnc
cp -R "$nv/core" "$nv/vendor" "$tmp/novnc/"
cp "$nv/LICENSE.txt" "$nv/package.json" "$tmp/novnc/"

# xterm.js and its fit add-on: the ES module builds and the stylesheet.
xt=node_modules/@xterm/xterm
fit=node_modules/@xterm/addon-fit
# They are copied as .js: deskboxd (libwebsockets' file mount) answers 415
# for .mjs and .map, and a module's type comes from the MIME type, not the
# name. The maps are not shipped, so the sourceMappingURL comment goes too
# (devtools would ask for a file that is not there).
cp "$xt/lib/xterm.mjs" "$tmp/xterm/xterm.js"
cp "$fit/lib/addon-fit.mjs" "$tmp/xterm/addon-fit.js"
cp "$xt/css/xterm.css" "$tmp/xterm/"
cp "$xt/LICENSE" "$tmp/xterm/LICENSE-xterm.txt"
cp "$fit/LICENSE" "$tmp/xterm/LICENSE-addon-fit.txt"
sed -i '/^\/\/# sourceMappingURL=/d' "$tmp/xterm/xterm.js" "$tmp/xterm/addon-fit.js"

touch "$tmp/.stamp"
rm -rf vendor
mv "$tmp" vendor
trap - EXIT INT TERM
