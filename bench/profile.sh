#!/bin/bash
# Where one rebound-lda delivery spends its time: instruction counts by function (valgrind
# callgrind, repeatable whatever else the machine does), system calls by count and time
# (strace -c), and the fsync/open/connect timeline of one run (strace -tt -T). The delivery
# goes into a database that already exists (the steady state), after one warm-up delivery.
#
# Usage (from the crate root): bench/profile.sh [MESSAGE]   (default: a bounce of the corpus)
# Needs valgrind and strace (apt-get install valgrind strace). KEEP=1 keeps the work files.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
MSG=${1:-}
if [ -z "$MSG" ]; then
    MSG=$(find ../shared/corpus/sisimai -name 'rfc3464-*.eml' 2>/dev/null | sort | head -1)
fi
[ -f "$MSG" ] || { echo "profile.sh: give a message file" >&2; exit 1; }
for t in valgrind strace; do
    command -v $t >/dev/null || { echo "profile.sh: $t missing (apt-get install $t)" >&2; exit 1; }
done

# A release build that keeps symbols, so callgrind can name functions.
export CARGO_TARGET_DIR=$ROOT/target/profile
CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=1 \
    scripts/build --quiet --bin rebound-lda
LDA=$(scripts/build --print-dir)/rebound-lda

WORK=$(mktemp -d /var/tmp/rebound-profile.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
ARGS=(-o "maildir=$WORK/Maildir" -o "database=$WORK/rebound.db")
"$LDA" "${ARGS[@]}" < "$MSG" 2>/dev/null || true # creates Maildir and database

echo "== callgrind: instructions of one delivery into an existing database"
valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$LDA" "${ARGS[@]}" \
    < "$MSG" > /dev/null 2> "$WORK/vg.txt" || true
grep -E 'Collected' "$WORK/vg.txt" || true
callgrind_annotate --inclusive=yes "$WORK/cg.out" 2>/dev/null | sed -n '1,60p' |
    grep -vE '^-+$|^$' | cut -c1-160 | head -45

echo
echo "== strace -c: system calls of one delivery"
strace -f -c -o "$WORK/sc.txt" "$LDA" "${ARGS[@]}" < "$MSG" > /dev/null 2>&1 || true
head -30 "$WORK/sc.txt"

echo
echo "== strace -tt -T: file, sync and socket calls, in order"
strace -f -tt -T -e trace=openat,fsync,fdatasync,rename,renameat,renameat2,connect,socket,sendto,pread64,pwrite64,mmap,execve,exit_group \
    -o "$WORK/tl.txt" "$LDA" "${ARGS[@]}" < "$MSG" > /dev/null 2>&1 || true
grep -vE 'mmap\(NULL, [0-9]+, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS' "$WORK/tl.txt" | cut -c1-200 | head -60
