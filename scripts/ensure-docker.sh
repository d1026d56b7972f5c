#!/usr/bin/env bash
# Make sure a Docker engine answers. On a bare Debian machine (CI) this installs
# docker.io and starts dockerd in the background; elsewhere it only checks.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "No Docker engine is reachable and this script can only install one as root on Debian." >&2
    echo "Install Docker (https://docs.docker.com/engine/install/) and start it, then retry." >&2
    exit 1
  fi
  echo "Installing docker.io ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq docker.io >/dev/null
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
  echo "Starting dockerd ..."
  mkdir -p /var/log
  nohup dockerd >/var/log/dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "dockerd did not become ready in 60 s; see /var/log/dockerd.log" >&2
tail -n 30 /var/log/dockerd.log >&2 || true
exit 1
