#!/usr/bin/env bash
# Installs the Debian packages memmap-harness needs to build QEMU, guest images
# and kernels. Idempotent: installs only what is missing. Without root it prints
# the exact command to run instead of failing later in a build.
set -euo pipefail

# Packages from the machine's own suite (bookworm).
base_packages=(
  gcc make git pkg-config ninja-build ccache bzip2 xz-utils zstd cpio
  python3 python3-venv flex bison device-tree-compiler
  libglib2.0-dev libpixman-1-dev
  busybox-static seabios qemu-system-data
  bc libelf-dev libssl-dev
)
# QEMU 10.2's configure needs meson >= 1.5; the +ds tarball lacks the bundled
# wheel, so meson and pycotap come from bookworm-backports.
backports_packages=(meson python3-pycotap)
min_meson=1.5

missing=()
for p in "${base_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
meson_ok() {
  command -v meson >/dev/null 2>&1 || return 1
  [ "$(printf '%s\n%s\n' "$min_meson" "$(meson --version)" | sort -V | head -1)" = "$min_meson" ]
}
need_backports=0
meson_ok || need_backports=1
dpkg-query -W -f='${Status}' python3-pycotap 2>/dev/null | grep -q 'installed$' || need_backports=1

if [ ${#missing[@]} -eq 0 ] && [ $need_backports -eq 0 ]; then
  echo "setup-debian: all packages present"
  exit 0
fi

# The configured Debian mirror, read from the machine's apt sources.
mirror=$(grep -rhoE '^(deb|URIs:)[[:space:]]+[^[:space:]]+/debian/?([[:space:]]|$)' \
  /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null \
  | grep -v security | awk '{print $2}' | head -1)
if [ -z "$mirror" ]; then
  echo "setup-debian: no Debian mirror found in /etc/apt/sources.list*; add one and rerun" >&2
  exit 1
fi

bp=()
[ $need_backports -eq 1 ] && bp=("${backports_packages[@]/%//bookworm-backports}")
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-debian: not root; as root, enable bookworm-backports from $mirror and run:" >&2
  echo "  apt-get install --no-install-recommends ${missing[*]} ${bp[*]}" >&2
  exit 1
fi

# A private sources list and state dir: the system's apt configuration is not touched.
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
printf 'deb %s bookworm main\ndeb %s bookworm-backports main\n' "$mirror" "$mirror" > "$state/sources.list"
mkdir -p "$state/lists/partial"
apt_opts=(-o "Dir::State::Lists=$state/lists" -o "Dir::Etc::SourceList=$state/sources.list"
          -o Dir::Etc::SourceParts=/dev/null)
echo "setup-debian: installing ${missing[*]} ${bp[*]}"
apt-get "${apt_opts[@]}" update -qq
DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -q --no-install-recommends \
  "${missing[@]}" "${bp[@]}"
