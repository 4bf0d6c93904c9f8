#!/usr/bin/env bash
# Installs Mesa's software Vulkan driver (lavapipe) and the Vulkan loader, so that Dawn (npm `webgpu`)
# finds an adapter on a machine without a GPU. Debian 12's own Mesa 22 lavapipe lacks a feature Dawn
# requires; Mesa 25 from bookworm-backports has it. On Debian 12 the backports suite is added to apt's
# sources when missing. On other systems nothing is installed and the reason is printed; the webgpu
# tests then skip with what they need.
# Exit status: 0 when a Vulkan driver is in place (installed now or before), 3 when none could be
# installed here (not Debian 12, not root); other codes are failures of apt.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have_lavapipe() {
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep 'libvulkan.so.1' >/dev/null
}

codename=''
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  if [ "${ID:-}" = debian ]; then codename="${VERSION_CODENAME:-}"; fi
fi

if [ "$codename" != bookworm ]; then
  if have_lavapipe; then
    echo "vulkan: lavapipe and libvulkan.so.1 already present"
  else
    echo "vulkan: not Debian 12 (bookworm); install Mesa >= 24 lavapipe (mesa-vulkan-drivers) and libvulkan1 by hand for the webgpu tests"
    exit 3
  fi
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "vulkan: not root, cannot install mesa-vulkan-drivers and libvulkan1 from bookworm-backports"
  exit 3
fi

installed_mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ -n "$installed_mesa" ] && dpkg --compare-versions "$installed_mesa" ge 24 && have_lavapipe; then
  echo "vulkan: mesa-vulkan-drivers $installed_mesa already installed"
  exit 0
fi

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo "vulkan: adding bookworm-backports to apt's sources"
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
echo "vulkan: installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
