#!/bin/sh
# build.sh - build a Debian bookworm root filesystem image for deskbox's
# `image` rootfs mode: xterm, a window manager, fonts, Xvfb, the full desktop
# session's panel, wallpaper and apps (browser, editor, file manager, PDF
# viewer), and a user with uid 1000. Sandboxes use it read-only as the lower layer of an overlayfs.
#
#   sh rootfs/build.sh [OUT]     (default /var/lib/deskbox/images/bookworm)
#
# Then create sandboxes with {"rootfs": "bookworm"} (deskboxd looks in
# STATE_DIR/images, or --images DIR).
set -eu

out=${1:-/var/lib/deskbox/images/bookworm}
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
pkgs=xvfb,xauth,xterm,openbox,fonts-dejavu-core,fonts-noto-cjk,fonts-noto-color-emoji,\
libx11-6,libxext6,libxtst6,libxdamage1,libxfixes3,libxrandr2,libxcomposite1,libxdo3,\
libvncserver1,libturbojpeg0,libspng0,libjansson4,procps,python3,ca-certificates,locales,\
libavcodec59,libavformat59,libswscale6,\
$(grep -v '^#' "$(dirname "$0")/session-packages" | tr -s ' \n' ',' | sed 's/,$//')

if [ -e "$out/etc/debian_version" ]; then
	echo "rootfs: $out already exists (remove it to rebuild)"
	exit 0
fi
tmp="$out.tmp.$$"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$(dirname "$out")"
debootstrap --variant=minbase --include="$pkgs" bookworm "$tmp" "$mirror"
chroot "$tmp" sh -c 'getent passwd 1000 >/dev/null || useradd -u 1000 -m -s /bin/bash user'
rm -rf "$tmp/var/cache/apt/archives"/*.deb "$tmp/var/lib/apt/lists"/*
mv "$tmp" "$out"
trap - EXIT
echo "rootfs: built $out"
