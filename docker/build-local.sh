#!/usr/bin/env bash
# Builds docker/Dockerfile without a Docker engine or registry (podman + runc, as on the project's
# CI machines): debootstrap a Debian 12 base, import it, build, and smoke-test the image.
# Usage: bash docker/build-local.sh [ROOTFS_DIR]   (a ready debootstrap tree skips that step)
set -euo pipefail
cd "$(dirname "$0")/.."
for p in podman buildah runc debootstrap; do
  command -v "$p" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah runc debootstrap >/dev/null; break; }
done
W=$(mktemp -d /tmp/gw-image.XXXXXX)
trap 'rm -rf "$W"' EXIT
cat > "$W/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=8192:8192"]
netns = "host"
[engine]
runtime = "runc"
CONF
cat > "$W/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "${GW_IMAGE_STORE:-/var/tmp/gw-image-store}/root"
runroot = "${GW_IMAGE_STORE:-/var/tmp/gw-image-store}/run"
CONF
export CONTAINERS_CONF="$W/containers.conf" CONTAINERS_STORAGE_CONF="$W/storage.conf"
rootfs=${1:-}
if [[ -z "$rootfs" ]]; then
  rootfs="$W/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" >/dev/null
fi
cp /etc/apt/sources.list.d/debian.sources "$W/debian.sources" 2>/dev/null || true
tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - localhost/bookworm-minbase:latest >/dev/null
# The minbase image only knows the main suite: give it the host's mirrors (with security updates).
ctx="$W/ctx"; mkdir -p "$ctx"
git ls-files -z | xargs -0 -I{} cp --parents {} "$ctx"/
if [[ -f "$W/debian.sources" ]]; then
  printf 'FROM localhost/bookworm-minbase:latest\nCOPY debian.sources /etc/apt/sources.list.d/debian.sources\nRUN rm -f /etc/apt/sources.list\n' > "$W/Base.Dockerfile"
  podman build --pull=never --isolation chroot -f "$W/Base.Dockerfile" -t localhost/bookworm-base:latest "$W" >/dev/null
  base=localhost/bookworm-base:latest
else
  base=localhost/bookworm-minbase:latest
fi
podman build --pull=never --isolation chroot --build-arg BASE="$base" -f docker/Dockerfile -t localhost/gatewayd:latest "$ctx"
podman run --rm localhost/gatewayd:latest --version
podman run --rm localhost/gatewayd:latest -c /etc/gatewayd/gatewayd.example.yaml --check-config
