#!/bin/bash
# Memory benchmark: peak RSS of one rebound-lda delivering a bounce that carries a 100 MB
# returned message (bench/bigbounce.py), measured by GNU time (-v, "Maximum resident set
# size"), with the floor program (bench/floor.c) beside it as the baseline of a process that
# only copies stdin to a file. Checks that the filed message is byte-exact and that the
# database got its row. Target (issue 6): rebound-lda under 32 MB.
#
# Usage (from the crate root): bench/memory.sh [SIZE_MB]   (default 100)
# Environment: NO_INSTALL=1, KEEP=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SIZE=${1:-100}
say() { printf '%s\n' "$*" >&2; }
die() { say "memory.sh: $*"; exit 1; }

if [ "$(id -u)" = 0 ] && [ -z "${NO_INSTALL:-}" ] && [ ! -x /usr/bin/time ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 time >/dev/null
fi
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) is needed: apt-get install time"

say "building rebound-lda (release)"
scripts/build --quiet --bin rebound-lda
LDA=$(scripts/build --print-dir)/rebound-lda

WORK=$(mktemp -d /var/tmp/rebound-memory.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/floor" bench/floor.c
python3 bench/bigbounce.py "$SIZE" "$WORK/big.eml"
mkdir -p "$WORK/floor.md/tmp" "$WORK/floor.md/new" "$WORK/floor.md/cur"

# peak KB of "COMMAND < big.eml"; exit status checked.
peak() {
    /usr/bin/time -v -o "$WORK/time.txt" "$@" < "$WORK/big.eml" > /dev/null 2> "$WORK/stderr" ||
        die "$1 failed: $(head -3 "$WORK/stderr")"
    awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt"
}
elapsed() { awk -F'): ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt"; }

floor_kb=$(peak "$WORK/floor" "$WORK/floor.md"); floor_t=$(elapsed)
lda_kb=$(peak "$LDA" -o "maildir=$WORK/Maildir" -o "database=$WORK/rebound.db"); lda_t=$(elapsed)

filed=$(find "$WORK/Maildir" -path '*/new/*' -type f)
[ "$(printf '%s\n' "$filed" | grep -c .)" = 1 ] || die "expected one filed message, found: $filed"
cmp -s "$filed" "$WORK/big.eml" || die "the filed message differs from the input"
rows=$(sqlite3 "$WORK/rebound.db" 'SELECT count(*) FROM messages' 2>/dev/null || echo 0)
[ "$rows" = 1 ] || say "warning: $rows rows in the database (expected 1)"
left=$(find "$WORK/Maildir" -type d -name tmp -exec find {} -type f \; | wc -l)
[ "$left" = 0 ] || die "$left files left in tmp/"

printf '\nrebound-lda memory: one bounce of %s bytes (%s MB returned message), %s\n\n' \
    "$(stat -c %s "$WORK/big.eml")" "$SIZE" "$(date -u +%Y-%m-%dT%H:%MZ)"
printf '%-12s %12s %12s\n' agent peak_RSS_MB wall
printf '%-12s %12.1f %12s\n' floor "$(awk -v k="$floor_kb" 'BEGIN {print k / 1024}')" "$floor_t"
printf '%-12s %12.1f %12s\n' rebound-lda "$(awk -v k="$lda_kb" 'BEGIN {print k / 1024}')" "$lda_t"
printf '\nfiled byte-exact: yes; rows: %s; tmp/ empty: yes; target: rebound-lda < 32 MB\n' "$rows"
