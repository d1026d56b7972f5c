#!/usr/bin/env bash
# Make sure a rootful Podman answers on its Docker-compatible socket, with the
# sandbox's seccomp profile as its default and the base image in its storage.
# On a bare Debian machine (CI) this installs podman and starts
# `podman system service`; run again, it only checks. docs/GUIDE.md, "Podman",
# says why each setting is there.
#
#   scripts/ensure-podman.sh [NODE_MAJOR]     (default 22)
#   then: DOCKER_HOST=unix:///run/podman/podman.sock docker ...
set -euo pipefail
cd "$(dirname "$0")/.."

node_major="${1:-22}"
base_image="node:${node_major}-bookworm-slim"
socket=/run/podman/podman.sock
conf_dir=/etc/containers
conf="$conf_dir/containers.conf"
profile="$conf_dir/mcp-sandbox-seccomp.json"
log=/var/log/podman-service.log

if [ "$(id -u)" != 0 ]; then
  echo "This script sets up rootful Podman and must run as root (sudo bash scripts/ensure-podman.sh)." >&2
  exit 1
fi

if ! command -v podman >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Podman is missing and this script can only install it on Debian; see https://podman.io/docs/installation" >&2
    exit 1
  fi
  echo "Installing podman ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # catatonit: the init Podman uses for --init; aardvark-dns comes with podman (names on a network).
  apt-get install -y -qq podman catatonit >/dev/null
fi
# catatonit is also the init of every pod `podman kube play` makes (test/e2e/kube-play.test.ts):
# a podman installed without it runs containers but cannot play the Kubernetes export.
if [ ! -x /usr/libexec/podman/catatonit ] && ! command -v catatonit >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "catatonit is missing (podman kube play needs it) and this script can only install it on Debian." >&2
    exit 1
  fi
  echo "Installing catatonit ..."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq catatonit >/dev/null
fi

# The seccomp profile: the compat API cannot take one per container, so it is the
# engine's default (copied, so the engine never depends on this checkout's path).
mkdir -p "$conf_dir"
if ! cmp -s profiles/seccomp.json "$profile"; then
  install -m 0644 profiles/seccomp.json "$profile"
fi

# Limits every container starts with. Where root lacks CAP_SYS_RESOURCE (this
# runs inside a container or a locked-down VM), Podman's own defaults
# (nofile 1048576, nproc 4194304) cannot be set and every container fails with
# "error setting rlimit"; these stay under the hard limits such hosts allow.
desired="$(
  cat <<EOF
# Written by mcp-sandbox scripts/ensure-podman.sh.
[containers]
default_ulimits = ["nofile=8192:8192", "nproc=16384:16384"]
seccomp_profile = "$profile"
EOF
)"
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$desired" ]; then
  if [ -f "$conf" ] && ! grep -q 'mcp-sandbox scripts/ensure-podman.sh' "$conf"; then
    cp "$conf" "$conf.before-mcp-sandbox"
    echo "Kept the previous $conf as $conf.before-mcp-sandbox"
  fi
  printf '%s\n' "$desired" >"$conf"
  changed=1
fi

answers() { podman --url "unix://$socket" version >/dev/null 2>&1; }

# The service reads containers.conf when it starts: restart it after a change.
service_pid="$(pgrep -f "^podman system service .*${socket}" || true)"
if [ -n "$service_pid" ] && [ "$changed" = 1 ]; then
  echo "Restarting podman system service (containers.conf changed) ..."
  kill "$service_pid"
  for _ in $(seq 1 20); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.5; done
  service_pid=""
fi
if [ -z "$service_pid" ]; then
  echo "Starting podman system service on $socket ..."
  mkdir -p "$(dirname "$socket")" /var/log
  # Started from the socket's folder, not the checkout: conmon writes files such as
  # "oom" into its working directory when a container is OOM-killed.
  (cd "$(dirname "$socket")" && nohup podman system service --time=0 "unix://$socket" >"$log" 2>&1 &)
fi
for _ in $(seq 1 60); do
  answers && break
  sleep 0.5
done
if ! answers; then
  echo "podman system service did not answer on $socket within 30 s; see $log" >&2
  tail -n 30 "$log" >&2 || true
  exit 1
fi

# The base image, from the Docker engine's storage when there is one (no registry needed).
if ! podman image exists "$base_image"; then
  # env -u: the Docker engine's storage, even when DOCKER_HOST points at Podman.
  if env -u DOCKER_HOST docker image inspect "$base_image" >/dev/null 2>&1; then
    echo "Loading $base_image from Docker into Podman ..."
    env -u DOCKER_HOST docker save "$base_image" | podman load -q >/dev/null
  else
    echo "$base_image is neither in Podman nor in Docker: run bash scripts/make-base-image.sh $node_major first, or podman pull it." >&2
    exit 1
  fi
fi

echo "Podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman version --format '{{.Version}}') answers on unix://$socket (base image $base_image loaded)."
