#!/usr/bin/env bash
# Installs the Debian packages memmap-harness needs to build QEMU, guest images
# and kernels, on Debian 12 (bookworm) or 13 (trixie). Idempotent: installs only
# what is missing. Without root it prints the exact command to run. Every error
# is one line on stderr saying what was wrong and what to do.
#
# The mirror comes from the machine's own apt configuration (classic one-line
# `deb [options] URL suite…` files and deb822 `.sources` files alike); the
# install runs against a private sources list and lists directory, so the
# system's apt configuration is never changed.
#
# Environment (for tests): MEMMAP_APT_ETC (default /etc/apt) and
# MEMMAP_OS_RELEASE (default /etc/os-release) point at another apt layout;
# MEMMAP_DPKG_ADMINDIR reads another dpkg database (an empty one: everything is
# missing); MEMMAP_SETUP_DRY_RUN=1 prints the plan instead of installing.
set -uo pipefail

die() { echo "setup-debian: $*" >&2; exit 1; }

apt_etc=${MEMMAP_APT_ETC:-/etc/apt}
os_release=${MEMMAP_OS_RELEASE:-/etc/os-release}

# Every program the harness, its scripts and its tests run, with its package.
# Keep in step with harness/util/host-tools.ts.
tool_packages=(
  gcc:gcc make:make git:git pkg-config:pkg-config ninja:ninja-build ccache:ccache
  bzip2:bzip2 xz:xz-utils zstd:zstd gzip:gzip tar:tar cpio:cpio patch:patch
  python3:python3 flex:flex bison:bison dtc:device-tree-compiler bc:bc
  depmod:kmod dpkg-deb:dpkg debootstrap:debootstrap iasl:acpica-tools
)
# Libraries and data without a program to look for. ca-certificates: git only
# recommends it, and a `git:https://…` QEMU source needs it (the debian:bookworm
# image of the CI workflow has none).
data_packages=(
  python3-venv libglib2.0-dev libpixman-1-dev libfdt-dev libelf-dev libssl-dev libc6-dev
  busybox-static seabios qemu-system-data debian-archive-keyring ca-certificates
)

# QEMU 10.2's configure needs meson >= 1.5 and pycotap from the system (the +ds
# tarball lacks the bundled wheels). Bookworm has them only in its backports.
min_meson=1.5

# One dpkg-query for every package (it is slow to start on a busy machine).
read_installed() {
  installed_list=$(dpkg-query ${MEMMAP_DPKG_ADMINDIR:+--admindir="$MEMMAP_DPKG_ADMINDIR"} -W -f='${Package} ${Status} ${Version}\n' 2>/dev/null \
    | awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1, $5 }')
}
read_installed
installed() { grep -q -- "^$1 " <<< "$installed_list"; }
installed_version() { awk -v p="$1" '$1 == p { print $2 }' <<< "$installed_list"; }
# Judged by the Debian package (asking `meson --version` costs seconds on a busy machine).
meson_ok() {
  local v; v=$(installed_version meson)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge "$min_meson"
}

[ -r "$os_release" ] || die "cannot read $os_release; this script supports Debian 12 or 13"
codename=$(. "$os_release"; echo "${VERSION_CODENAME:-}")
case "$codename" in
  bookworm|trixie) ;;
  *) die "unsupported host '${codename:-unknown}': use Debian 12 (bookworm) or 13 (trixie), or install the packages listed in scripts/setup-debian.sh by hand" ;;
esac

missing=()
for entry in "${tool_packages[@]}"; do
  pkg=${entry#*:}
  installed "$pkg" || missing+=("$pkg")
done
for pkg in "${data_packages[@]}"; do installed "$pkg" || missing+=("$pkg"); done
extra=()
meson_ok || extra+=(meson)
installed python3-pycotap || extra+=(python3-pycotap)
# On bookworm these two come from backports; on trixie from the release itself.
if [ "$codename" = bookworm ]; then
  extra=("${extra[@]/%//bookworm-backports}")
fi

if [ ${#missing[@]} -eq 0 ] && [ ${#extra[@]} -eq 0 ]; then
  echo "setup-debian: all packages present"
  exit 0
fi

# shellcheck source=lib/debian-archive.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/debian-archive.sh"

read -r mirror keyring < <(find_debian_archive "$apt_etc"; echo)
[ -n "${mirror:-}" ] || die "no Debian mirror found in $apt_etc/sources.list or $apt_etc/sources.list.d/*.{list,sources}; configure apt with a Debian mirror and rerun"
if [ -z "${keyring:-}" ]; then
  for k in /usr/share/keyrings/debian-archive-keyring.gpg /usr/share/keyrings/debian-archive-keyring.pgp; do
    [ -f "$k" ] && { keyring=$k; break; }
  done
fi

suites="$codename"
[ "$codename" = bookworm ] && suites="bookworm bookworm-backports"
signed=${keyring:+ [signed-by=$keyring]}
sources_text=$(for s in $suites; do echo "deb$signed $mirror $s main"; done)

if [ "${MEMMAP_SETUP_DRY_RUN:-0}" = 1 ]; then
  echo "setup-debian: dry run on $codename; mirror $mirror; keyring ${keyring:-none}"
  echo "$sources_text"
  echo "install: ${missing[*]} ${extra[*]}"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  hint=""
  [ "$codename" = bookworm ] && [ ${#extra[@]} -gt 0 ] && hint="enable bookworm-backports ($mirror) and "
  die "not root; as root, ${hint}run: apt-get install --no-install-recommends ${missing[*]} ${extra[*]}"
fi

# A private sources list and state dir: the system's apt configuration is not touched.
state=$(mktemp -d) || die "cannot create a temporary directory"
trap 'rm -rf "$state"' EXIT
echo "$sources_text" > "$state/sources.list"
mkdir -p "$state/lists/partial"
apt_opts=(-o "Dir::State::Lists=$state/lists" -o "Dir::Etc::SourceList=$state/sources.list"
          -o Dir::Etc::SourceParts=/dev/null)
echo "setup-debian: installing ${missing[*]} ${extra[*]} (from $mirror)"
if ! apt-get "${apt_opts[@]}" update -qq 2> "$state/err"; then
  die "apt-get update from $mirror failed: $(grep -m1 -E '^(E|W):' "$state/err" || tail -1 "$state/err"); check the network and the mirror"
fi
if ! DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -q --no-install-recommends \
    "${missing[@]}" "${extra[@]}" > "$state/out" 2>&1; then
  die "apt-get install failed: $(grep -m1 '^E:' "$state/out" || tail -1 "$state/out"); fix that and rerun"
fi

# Check that every program is now on PATH: a package that installed but left
# no program is reported by name rather than failing later in a build.
for entry in "${tool_packages[@]}"; do
  tool=${entry%%:*} pkg=${entry#*:}
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 \
    || die "'$tool' is still missing after installing $pkg; install $pkg and rerun"
done
read_installed
meson_ok || die "meson >= $min_meson is still missing; install meson (bookworm: from bookworm-backports) and rerun"
echo "setup-debian: done"
