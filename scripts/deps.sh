#!/bin/sh
# deps.sh - install the Debian packages deskbox needs, if any are missing.
# Idempotent and silent when everything is there; the Makefile runs it before
# every build. Usage: deps.sh [build|test|bench|rootfs|image|deploy|fuzz]...
set -eu

build="build-essential pkg-config libwebsockets-dev libjansson-dev
libseccomp-dev libcap-dev libvncserver-dev libx11-dev libxext-dev libxtst-dev
libxdamage-dev libxfixes-dev libxrandr-dev libxkbfile-dev libxi-dev libxcomposite-dev
libturbojpeg0-dev libspng-dev libc-ares-dev
libavcodec-dev libavformat-dev libswscale-dev"
# What a default desktop needs in the default 'host' root filesystem; the
# last line is the full session's (rootfs/session-packages, shared with
# rootfs/build.sh and the container image so they cannot drift apart).
runtime="xvfb xauth xterm openbox xfonts-base fonts-dejavu-core fonts-noto-cjk
fonts-noto-color-emoji procps iproute2 curl
libavcodec59 libavformat59 libswscale6
$(grep -v '^#' "$(dirname "$0")/../rootfs/session-packages")"
test="libcmocka-dev python3 python3-websockets util-linux procps iproute2 x11-utils chromium tigervnc-viewer
gvncviewer python3-venv python3-pip python3-setuptools ffmpeg xdotool x11-xserver-utils"
bench="scrot xdotool x11vnc x11-utils"
rootfs="debootstrap"
# make fuzz: clang's libFuzzer and sanitizer runtimes.
fuzz="clang libclang-rt-14-dev"
# The container image (make image) and its test: debootstrap builds the root,
# buildah packs it, podman runs it. runc, because crun refuses hosts whose
# cgroups are hybrid (v1 controllers, v2 mounted) when v2 holds a controller.
image="debootstrap buildah podman runc"
# The Kubernetes manifests' offline checks, metrics format and the
# load-balancer simulation (make test).
deploy="kubectl yamllint shellcheck prometheus haproxy"

want="$build $runtime"
for set in "$@"; do
	case "$set" in
	build) ;;
	test) want="$want $test" ;;
	bench) want="$want $test $bench" ;;
	rootfs) want="$want $rootfs" ;;
	image) want="$want $image" ;;
	deploy) want="$want $deploy" ;;
	fuzz) want="$want $fuzz" ;;
	*) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
	esac
done

missing=""
# Node and npm build the browser UI's assets. Any node >= 18 will do (a
# NodeSource node bundles its own npm and conflicts with Debian's npm
# package), so look for the commands rather than for packages.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	want="$want nodejs npm"
fi
for p in $want; do
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deskbox needs these Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An old or empty package list finds nothing: refresh it once per hour at most.
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*Packages*' -mmin -60 2>/dev/null | head -1)" ]; then
	apt-get update -qq >&2
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
