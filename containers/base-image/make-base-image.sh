#!/usr/bin/env bash
# An offline base image for the CPU target, for machines that cannot pull from a registry (CI here):
# a minimal Debian (debootstrap --variant=minbase, from the apt mirror this host uses) with OpenBLAS (libopenblas0:
# mmsurv's native sgemm on the wasm backend, core/backend/native-matmul.ts) plus this host's Node binary, loaded with
# `docker import`. Usage: make-base-image.sh [TAG]   (default mmsurv-base:bookworm-node20)
# Needs root, debootstrap and a running Docker engine. Takes about 2-4 minutes; an existing TAG is kept.
set -euo pipefail
TAG="${1:-mmsurv-base:bookworm-node20}"
SUITE="${SUITE:-bookworm}"
if docker image inspect "$TAG" > /dev/null 2>&1; then
  # an image made before OpenBLAS was added is rebuilt
  if docker run --rm --network none "$TAG" /bin/sh -c 'ldconfig -p | grep -q libopenblas.so.0' > /dev/null 2>&1; then
    echo "base image $TAG exists"; exit 0
  fi
  echo "base image $TAG has no libopenblas.so.0: rebuilding it"
  docker image rm -f "$TAG" > /dev/null
fi
MIRROR="${MIRROR:-}"
if [ -z "$MIRROR" ]; then
  MIRROR="$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}')"
  [ -n "$MIRROR" ] || MIRROR="$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null | head -n1 | awk '{print $2}')"
  [ -n "$MIRROR" ] || MIRROR="http://deb.debian.org/debian"
fi
NODE="$(command -v node)"
NODE_MAJOR="$("$NODE" -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" -lt 20 ]; then echo "node $("$NODE" --version) is too old: the image needs Node 20+" >&2; exit 1; fi
ROOTFS="$(mktemp -d /var/tmp/mmsurv-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT
echo "debootstrap $SUITE from $MIRROR into $ROOTFS"
debootstrap --variant=minbase --include=libstdc++6,libopenblas0-pthread "$SUITE" "$ROOTFS" "$MIRROR" > "$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log" >&2; exit 1; }
rm -f "$ROOTFS.log"
install -m 0755 "$NODE" "$ROOTFS/usr/local/bin/node"
chroot "$ROOTFS" /usr/local/bin/node --version
chroot "$ROOTFS" /sbin/ldconfig -p | grep -q libopenblas.so.0 || { echo "libopenblas.so.0 is not on the image's library path" >&2; exit 1; }
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/tmp/* "$ROOTFS"/var/tmp/*
tar -C "$ROOTFS" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["/bin/bash"]' - "$TAG"
echo "base image $TAG ($(docker image inspect --format '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
