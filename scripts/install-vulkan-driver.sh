#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) from bookworm-backports so that the
# `webgpu` package (Dawn) finds an adapter on a machine without a GPU. Idempotent.
set -euo pipefail
if [ "$(id -u)" != "0" ]; then echo "install-vulkan-driver: needs root (apt-get)"; exit 1; fi
sources=/etc/apt/sources.list.d/debian.sources
if [ -f "$sources" ] && ! grep -q 'bookworm-backports' "$sources"; then
  sed -i '0,/^Suites: bookworm bookworm-updates$/s//Suites: bookworm bookworm-updates bookworm-backports/' "$sources"
fi
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/backports.list
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-vulkan-driver: $(dpkg-query -W -f='${Package} ${Version}' mesa-vulkan-drivers)"
