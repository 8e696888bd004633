# Finds the Debian archive of a machine's apt configuration, as apt reads it:
# `sources.list` and `sources.list.d/*.list` (one-line `deb [options] URL suite…`)
# and `sources.list.d/*.sources` (deb822). Files apt ignores (*.save,
# *.disabled…) are ignored. Sourced by setup-debian.sh and fresh-machine.sh;
# harness/util/apt-sources.ts does the same in TypeScript (a unit test runs both).
#
# find_debian_archive ETC_APT prints "URL KEYRING" for the first enabled `deb`
# entry whose URL ends in /debian (not the security archive); KEYRING is the
# entry's signed-by path or empty. Prints nothing when there is none.

debian_source_files() {
  local etc=$1 f
  [ -f "$etc/sources.list" ] && echo "$etc/sources.list"
  for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] && echo "$f"
  done
  return 0
}

find_debian_archive() {
  local file
  while read -r file; do
    case "$file" in
      *.sources)
        # deb822: stanzas separated by blank lines; fields URIs, Types, Signed-By.
        awk '
          function flush() {
            if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
              n = split(uris, u, /[ \t]+/)
              for (i = 1; i <= n; i++)
                if (u[i] ~ /\/debian\/?$/ && u[i] !~ /security/) { sub(/\/$/, "", u[i]); print u[i], key; exit }
            }
            types = ""; uris = ""; key = ""; enabled = ""
          }
          /^[ \t]*#/ { next }
          /^[ \t]*$/ { flush(); next }
          tolower($1) == "types:"     { $1 = ""; types = $0 }
          tolower($1) == "uris:"      { $1 = ""; uris = $0 }
          tolower($1) == "enabled:"   { enabled = tolower($2) }
          tolower($1) == "signed-by:" { key = $2 }
          END { flush() }
        ' "$file"
        ;;
      *)
        # One-line: deb [opt=val …] URL suite components…
        awk '
          /^[ \t]*deb[ \t]/ {
            key = ""; rest = $0; sub(/^[ \t]*deb[ \t]+/, "", rest)
            if (rest ~ /^\[/) {
              opts = substr(rest, 2, index(rest, "]") - 2)
              rest = substr(rest, index(rest, "]") + 1)
              n = split(opts, o, /[ \t]+/)
              for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) { key = o[i]; sub(/^signed-by=/, "", key) }
            }
            split(rest, f, /[ \t]+/); url = (f[1] == "" ? f[2] : f[1])
            if (url ~ /\/debian\/?$/ && url !~ /security/) { sub(/\/$/, "", url); print url, key; exit }
          }
        ' "$file"
        ;;
    esac
  done < <(debian_source_files "$1") | head -1
}
