#!/usr/bin/env bash
# Proves the README's two commands work on a machine that has nothing: makes a
# bare Debian 12 root (debootstrap minbase, deb822 sources only, like a stock
# install and the debian:bookworm image), copies this host's Node.js in (the
# README's one prerequisite), clones the repository into it and runs
# `npm start` then `npm test` there as a new user would, printing wall times.
# The root is removed afterwards, on failure and on Ctrl-C too.
#
# usage: sudo bash scripts/fresh-machine.sh [--start-only] [--keep] [--share-ccache DIR] [--ref REF]
#   --start-only        run only `npm start`
#   --keep              keep the root for inspection (its path is printed)
#   --share-ccache DIR  bind DIR as the root's compiler cache: installs and runs stay
#                       fresh, compiles are faster (say so when quoting figures)
#   --ref REF           the commit to clone (default HEAD of this repository)
# Needs root (chroot, mounts) and debootstrap (scripts/setup-debian.sh installs it).
set -uo pipefail

die() { echo "fresh-machine: $*" >&2; exit 1; }
say() { echo "fresh-machine: $*"; }

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
start_only=0 keep=0 ccache_dir="" ref=HEAD
while [ $# -gt 0 ]; do
  case "$1" in
    --start-only) start_only=1 ;;
    --keep) keep=1 ;;
    --share-ccache) [ $# -ge 2 ] || die "--share-ccache needs a directory"; ccache_dir=$2; shift ;;
    --ref) [ $# -ge 2 ] || die "--ref needs a commit"; ref=$2; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option '$1'; run with --help" ;;
  esac
  shift
done

[ "$(id -u)" -eq 0 ] || die "needs root (chroot and mounts); rerun with sudo"
command -v debootstrap >/dev/null || PATH="$PATH:/usr/sbin" command -v debootstrap >/dev/null \
  || die "debootstrap is missing; run 'bash scripts/setup-debian.sh' first"
node_bin=$(command -v node) || die "node is missing on this host; install Node.js >= 20.6 first"
npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd) || die "npm is missing on this host"
git -C "$repo" rev-parse --verify -q "$ref^{commit}" >/dev/null || die "'$ref' is not a commit of $repo"

# shellcheck source=lib/debian-archive.sh
. "$repo/scripts/lib/debian-archive.sh"
read -r mirror keyring < <(find_debian_archive /etc/apt; echo)
[ -n "${mirror:-}" ] || die "no Debian mirror in this host's apt sources; configure one and rerun"

root=$(mktemp -d /var/tmp/memmap-fresh-XXXXXX) || die "cannot create a temporary directory in /var/tmp"
# It becomes the root's "/": mktemp's 0700 would keep every other user (the
# tests that drop to nobody) from reaching /usr, which no real machine does.
chmod 755 "$root"
mounts=()
child=

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The running step (debootstrap writes into the root from outside it) and
  # anything still running inside the root (a QEMU, a build) go first.
  [ -n "$child" ] && kill -9 $(tree "$child") 2>/dev/null
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
  # debootstrap mounts /proc and /sys itself; an interrupted one leaves them mounted.
  awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
  if [ $keep -eq 1 ]; then say "kept the root at $root"; else rm -rf --one-file-system "$root" "$root.debootstrap.log"; fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Long steps run in the background and are waited for: bash runs a trap only
# once the foreground child ends, so a TERM sent to this script alone (not to
# its process group, as Ctrl-C is) would otherwise wait out a whole build.
waited() { local status=0; "$@" & child=$!; wait "$child" || status=$?; child=; return $status; }

# A process and all its descendants (listed before any is killed, so none is reparented away).
tree() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done; }

bind() { mkdir -p "$root$2" && mount --bind "$1" "$root$2" && mounts+=("$root$2"); }
seconds() { date +%s; }
elapsed() { echo $(( $(seconds) - $1 )); }

t0=$(seconds)
say "debootstrap bookworm minbase into $root (mirror $mirror)"
waited debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.debootstrap.log" 2>&1 \
  || { tail -3 "$root.debootstrap.log" >&2; rm -f "$root.debootstrap.log"; die "debootstrap failed (see above)"; }
rm -f "$root.debootstrap.log"
t_root=$(elapsed "$t0")

# A stock Debian 12 lists its archive in deb822 form only; debootstrap writes the old one-line file.
rm -f "$root/etc/apt/sources.list"
cat > "$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: ${keyring:-/usr/share/keyrings/debian-archive-keyring.gpg}
EOF

# apt settings as this machine has them (e.g. a mirror whose Release files
# are past their Valid-Until needs Check-Valid-Until off): the root stands for
# a new machine of this same kind, whose only difference is what is installed.
cp -a /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"

# Node.js and npm as the host has them, with the host's npm and TLS settings (read here, never stored).
install -D -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
for f in /etc/npmrc /usr/etc/npmrc /root/.npmrc; do [ -f "$f" ] && install -D -m 0600 "$f" "$root$f"; done
# The host's certificate bundle, kept apart: installing ca-certificates in the
# root rebuilds /etc/ssl/certs from Debian's list alone, without a local CA the
# host's network may need. npm and Node are pointed at the copy.
host_ca=/usr/local/share/memmap-fresh/host-ca.crt
install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root$host_ca"
[ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ] && cat "$NODE_EXTRA_CA_CERTS" >> "$root$host_ca"
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The repository as a new user gets it: a clone of one commit.
git clone -q --no-local "$repo" "$root/root/memmap-harness" || die "git clone of $repo failed"
git -C "$root/root/memmap-harness" checkout -q "$(git -C "$repo" rev-parse "$ref")" || die "cannot check out $ref"

bind /proc /proc; bind /sys /sys; bind /dev /dev; bind /dev/pts /dev/pts
mount -t tmpfs tmpfs "$root/tmp" && mounts+=("$root/tmp")
[ -n "$ccache_dir" ] && { mkdir -p "$ccache_dir"; bind "$ccache_dir" /root/.cache/memmap-harness/ccache; }

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    LANG=C.UTF-8 TERM=dumb NODE_EXTRA_CA_CERTS=$host_ca npm_config_cafile=$host_ca \
    bash -c "cd /root/memmap-harness && $1"
}

t1=$(seconds)
say "npm start (in the root; output follows)"
waited in_root 'npm start'; start_status=$?
t_start=$(elapsed "$t1")
test_status=skipped t_test=0
if [ $start_status -eq 0 ] && [ $start_only -eq 0 ]; then
  t2=$(seconds)
  say "npm test (in the root; output follows)"
  waited in_root 'npm test'; test_status=$?
  t_test=$(elapsed "$t2")
fi

say "figures: root ${t_root} s; npm start ${t_start} s (exit $start_status); npm test ${t_test} s (exit $test_status)${ccache_dir:+; compiler cache shared from $ccache_dir}"
[ $start_status -eq 0 ] || exit 1
[ "$test_status" = skipped ] || [ "$test_status" -eq 0 ] || exit 1
if [ "$test_status" = skipped ]; then say "npm start passed on a fresh bookworm root (npm test not run: --start-only)"
else say "both commands passed on a fresh bookworm root"; fi
