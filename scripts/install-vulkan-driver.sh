#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) from bookworm-backports so that the
# `webgpu` package (Dawn) finds an adapter on a machine without a GPU. Idempotent.
#
# The backports source uses the mirror this machine already takes Debian from (the URI of its
# `bookworm` entry in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list): no package
# host is named here.
set -euo pipefail
if [ "$(id -u)" != "0" ]; then echo "install-vulkan-driver: needs root (apt-get)"; exit 1; fi

has_backports() { grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; }

# The URI of the machine's main Debian archive: a deb822 stanza whose Suites name `bookworm`,
# else a one-line `deb <uri> bookworm ...` entry.
debian_uri() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk '
      /^[[:space:]]*$/ { if (uri != "" && main) { print uri; exit } uri = ""; main = 0; next }
      /^URIs:/ { uri = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") main = 1 }
      END { if (uri != "" && main) print uri }
    ' "$file" | head -n 1
  done
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list
  fi
}

if ! has_backports; then
  uri=$(debian_uri | head -n 1)
  if [ -z "$uri" ]; then
    echo "install-vulkan-driver: no Debian bookworm source found in /etc/apt; add bookworm-backports yourself" >&2
    exit 1
  fi
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" > /etc/apt/sources.list.d/bookworm-backports.sources
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "install-vulkan-driver: $(dpkg-query -W -f='${Package} ${Version}' mesa-vulkan-drivers)"
