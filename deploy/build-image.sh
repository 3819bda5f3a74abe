#!/usr/bin/env bash
# Builds the netres image without a container engine: a debootstrapped Debian 12 (minbase) with
# the runtime packages read off the binary (scripts/runtime-packages.sh), the binary, and an
# unprivileged user, packed by umoci into an OCI image archive that podman, skopeo, containerd
# (ctr images import) and kind/k3s can load. Same layout as deploy/Dockerfile. Needs root,
# debootstrap and umoci (apt-get install debootstrap umoci) and Debian's mirror (apt's).
#   deploy/build-image.sh build/src/cli/netres netres-0.1.0.oci.tar [TAG]
set -euo pipefail
bin=${1:?usage: build-image.sh NETRES_BINARY OUT.oci.tar [TAG]}
out=${2:?usage: build-image.sh NETRES_BINARY OUT.oci.tar [TAG]}
tag=${3:-0.1.0}
here=$(cd "$(dirname "$0")/.." && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[[ $(id -u) -eq 0 ]] || { echo "build-image: run as root (debootstrap, chroot)" >&2; exit 2; }
for tool in debootstrap umoci; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool missing: apt-get install $tool" >&2; exit 2; }
done

work=$(mktemp -d /tmp/netres-image.XXXXXX)
cleanup() {
  for m in proc dev; do umount "$work/rootfs/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "build-image: debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -5 "$work/debootstrap.log" >&2; exit 3; }
packages=$("$here/scripts/runtime-packages.sh" "$bin")
echo "build-image: installing $packages"
cp /etc/resolv.conf "$work/rootfs/etc/resolv.conf"
mount -t proc proc "$work/rootfs/proc"
chroot "$work/rootfs" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends $packages ca-certificates >/dev/null && \
  useradd --uid 10001 --user-group --home-dir /work --create-home netres && \
  apt-get clean && rm -rf /var/lib/apt/lists/*"
umount "$work/rootfs/proc"
install -m 0755 "$bin" "$work/rootfs/usr/local/bin/netres"
strip "$work/rootfs/usr/local/bin/netres"
: >"$work/rootfs/etc/resolv.conf"
# The image must run: the binary finds every library inside the new root.
chroot "$work/rootfs" /usr/local/bin/netres --version

echo "build-image: packing OCI image netres:$tag"
umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack --image "$work/oci:$tag" "$work/bundle" >/dev/null
rm -rf "$work/bundle/rootfs"
mv "$work/rootfs" "$work/bundle/rootfs"
umoci repack --image "$work/oci:$tag" "$work/bundle"
umoci config --image "$work/oci:$tag" --config.entrypoint netres --config.user 10001 \
  --config.workingdir /work --config.env PATH=/usr/local/bin:/usr/bin:/bin \
  --config.label org.opencontainers.image.title=netres
tar -C "$work/oci" -cf "$out.tmp" . && mv "$out.tmp" "$out"
echo "build-image: wrote $out ($(du -h "$out" | cut -f1))"
