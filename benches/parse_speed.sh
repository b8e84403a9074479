#!/bin/sh
# Messages per second of `rebound parse` beside Sisimai (libsisimai-perl) on the same files.
# usage: benches/parse_speed.sh [DIR] [ROUNDS]   (default: ../shared/corpus/sisimai, 5)
# Build first: scripts/build. Sisimai is skipped when Perl cannot load it.
set -eu
dir=${1:-../shared/corpus/sisimai}
rounds=${2:-5}
bin=${REBOUND:-$(dirname "$0")/../target/release/rebound}
[ -x "$bin" ] || bin=$("$(dirname "$0")/../scripts/build" --print-dir)/rebound
n=$(find "$dir" -maxdepth 1 -type f -name '*.eml' | wc -l)
[ "$n" -gt 0 ] || { echo "no *.eml in $dir" >&2; exit 2; }

now() { date +%s.%N; }
rate() { awk -v n="$1" -v r="$rounds" -v a="$2" -v b="$3" 'BEGIN { t = b - a; printf "%.0f msg/s (%d messages x %d rounds in %.2f s)\n", n * r / t, n, r, t }'; }

a=$(now)
i=0
while [ $i -lt "$rounds" ]; do "$bin" parse "$dir" >/dev/null; i=$((i + 1)); done
b=$(now)
printf 'rebound parse: '; rate "$n" "$a" "$b"

if perl -MSisimai -e 1 2>/dev/null; then
    a=$(now)
    i=0
    while [ $i -lt "$rounds" ]; do
        perl -MSisimai -e 'for my $f (@ARGV) { my $v = Sisimai->make($f, delivered => 1, vacation => 1) }' \
            "$dir"/*.eml >/dev/null 2>&1 || true
        i=$((i + 1))
    done
    b=$(now)
    printf 'Sisimai %s: ' "$(perl -MSisimai -e 'print $Sisimai::VERSION')"; rate "$n" "$a" "$b"
else
    echo "Sisimai: not installed (apt-get install libsisimai-perl)"
fi
