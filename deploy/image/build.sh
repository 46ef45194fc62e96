#!/bin/sh
# build.sh - build deskbox's OCI image from Debian packages only: a
# debootstrapped bookworm root with what deskboxd and a full desktop
# session (panel, wallpaper, browser, editor, file manager) need, our
# binaries and web UI under /opt/deskbox, packed by buildah (no registry is
# pulled from; the base is `scratch`).
#
#   sh deploy/image/build.sh [BUILD_DIR] [IMAGE]   (build, localhost/deskbox:latest)
#
# The debootstrapped root is slow to make (minutes), so it is cached in
# BUILD_DIR/image/root-<hash of the package list> and reused; only the layer
# with our binaries is rebuilt when they change. The image lands in the
# local containers storage (podman sees it) and as an OCI archive at
# BUILD_DIR/image/deskbox.oci.tar for `podman load`, `skopeo copy` or a
# registry push. Needs root (debootstrap) and buildah.
set -eu

build=${1:-build}
image=${2:-localhost/deskbox:latest}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
case $build in /*) ;; *) build=$repo/$build ;; esac

# What deskboxd, the desktop agent and a default desktop load at run time:
# X, xterm, openbox, fonts, and the full session (deskboxd's default: panel,
# wallpaper, session bus, Firefox ESR, mousepad, pcmanfm, MuPDF, xdg-open)
# from rootfs/session-packages, the list the host and rootfs/build.sh
# install too. No -dev packages, no compiler. libav* is what the agent
# loads when a recording starts.
pkgs="libwebsockets17 libjansson4 libseccomp2 libcap2 libvncserver1
libturbojpeg0 libspng0 libx11-6 libxext6 libxtst6 libxdamage1 libxfixes3
libxrandr2 libxcomposite1 xvfb xauth xterm openbox xfonts-base fonts-dejavu-core procps
iproute2 ca-certificates tini libc-ares2 libavcodec59 libavformat59 libswscale6
$(grep -v '^#' "$repo/rootfs/session-packages")"

for f in deskboxd deskbox-init deskbox-desktop deskbox-xkbcomp deskbox-egress; do
	[ -x "$build/$f" ] || { echo "image: $build/$f missing: run make first" >&2; exit 1; }
done
command -v buildah >/dev/null || { echo "image: buildah missing (scripts/deps.sh image)" >&2; exit 1; }

# The image is up to date when it was made from these very files: its
# label holds their digest, so a rebuild costs nothing when nothing changed.
stamp=$( (cd "$build" && sha256sum deskboxd deskbox-init deskbox-desktop deskbox-xkbcomp deskbox-egress;
	  cd "$repo" && find web -type f ! -path 'web/node_modules/*' | LC_ALL=C sort | xargs sha256sum;
	  printf '%s' "$pkgs"; cat "$0") | sha256sum | cut -c1-32)
if [ "$(buildah inspect --type image --format '{{index .ImageAnnotations "org.deskbox.stamp"}}' "$image" 2>/dev/null)" = "$stamp" ] &&
   [ -e "$build/image/deskbox.oci.tar" ]; then
	echo "image: $image is up to date"
	exit 0
fi

hash=$(printf '%s' "$pkgs" | sha256sum | cut -c1-12)
root=$build/image/root-$hash
if [ ! -e "$root/etc/debian_version" ]; then
	mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
	mirror=${mirror:-http://deb.debian.org/debian}
	tmp=$root.tmp.$$
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$build/image"
	echo "image: debootstrap bookworm into $root (takes minutes, done once)" >&2
	debootstrap --variant=minbase --include="$(printf '%s' "$pkgs" | tr -s ' \n' ,)" \
		bookworm "$tmp" "$mirror" >"$build/image/debootstrap.log" 2>&1 ||
		{ tail -20 "$build/image/debootstrap.log" >&2; exit 1; }
	# Sandboxes run as uid 1000 ("user"); deskboxd writes its own /etc inside
	# each jail, but the image's passwd names the uid for `podman exec`.
	chroot "$tmp" sh -c 'getent passwd 1000 >/dev/null || useradd -u 1000 -m -s /bin/bash user'
	rm -rf "$tmp/var/cache/apt/archives"/*.deb "$tmp/var/lib/apt/lists"/* \
		"$tmp/usr/share/doc" "$tmp/usr/share/man" "$tmp/usr/share/info"
	mv "$tmp" "$root"
	trap - EXIT
fi

ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah copy --quiet "$ctr" "$root" / >/dev/null
buildah copy --quiet "$ctr" "$build/deskboxd" "$build/deskbox-init" "$build/deskbox-desktop" "$build/deskbox-xkbcomp" "$build/deskbox-egress" /opt/deskbox/bin/ >/dev/null
buildah copy --quiet "$ctr" "$repo/web" /opt/deskbox/web >/dev/null
buildah config \
	--entrypoint '["/usr/bin/tini", "--", "/opt/deskbox/bin/deskboxd"]' \
	--cmd '["--listen", "0.0.0.0:8080", "--state-dir", "/var/lib/deskbox", "--web", "/opt/deskbox/web"]' \
	--port 8080 --stop-signal SIGTERM \
	--label org.opencontainers.image.title=deskbox \
	--label org.opencontainers.image.source=deskbox \
	--annotation org.deskbox.stamp="$stamp" \
	--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	"$ctr"
old=$(buildah inspect --type image --format '{{.FromImageID}}' "$image" 2>/dev/null || true)
buildah commit --quiet --rm "$ctr" "$image" >/dev/null
# The image this one replaces, now untagged, would pile up at every rebuild.
if [ -n "$old" ]; then buildah rmi "$old" >/dev/null 2>&1 || true; fi
trap - EXIT
rm -f "$build/image/deskbox.oci.tar"
buildah push --quiet "$image" "oci-archive:$build/image/deskbox.oci.tar:$image" >/dev/null
echo "image: $image ($build/image/deskbox.oci.tar)"
