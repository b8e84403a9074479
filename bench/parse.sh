#!/bin/bash
# Parse benchmark: `rebound parse` beside Sisimai (Debian's libsisimai-perl) on the same files.
#   1. the whole shared corpus (../shared/corpus/*/ *.eml), REPEAT times over, in one process
#      each: messages/s for rebound and for Sisimai (bench/sisimai.pl, one call per file);
#      rebound as shipped (classifying on every CPU it may use) and with --jobs 1 (Sisimai
#      uses one), both printed;
#   2. one bounce whose returned message carries 15 MB, and one with 100 MB
#      (bench/bigbounce.py): wall time of one `rebound parse FILE` run, process start
#      included (median of 5), beside one Sisimai run.
# Targets (issue 6): rebound >= 20x Sisimai's messages/s; big bounces < 50 ms, flat in size.
#
# Usage (from the crate root): bench/parse.sh
# Environment: CORPUS_ROOT=DIR (default ../shared/corpus), REPEAT=10, NO_INSTALL=1, KEEP=1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
REPEAT=${REPEAT:-10}
CORPUS_ROOT=${CORPUS_ROOT:-../shared/corpus}
say() { printf '%s\n' "$*" >&2; }
die() { say "parse.sh: $*"; exit 1; }

if [ "$(id -u)" = 0 ] && [ -z "${NO_INSTALL:-}" ] && ! perl -MSisimai -e1 2>/dev/null; then
    say "installing libsisimai-perl"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
        libsisimai-perl >/dev/null
fi
HAVE_SISIMAI=1
perl -MSisimai -e1 2>/dev/null || { HAVE_SISIMAI=; say "libsisimai-perl missing: Sisimai column skipped"; }

say "building rebound (release)"
scripts/build --quiet --bin rebound
REBOUND=$(scripts/build --print-dir)/rebound
[ -x "$REBOUND" ] || die "no rebound at $REBOUND"

WORK=$(mktemp -d /var/tmp/rebound-parse.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT

ms() { date +%s%N; }

# --- 1. corpus throughput ----------------------------------------------------------------
[ -d "$CORPUS_ROOT" ] || die "no corpus at $CORPUS_ROOT (set CORPUS_ROOT)"
mapfile -t DIRS < <(find "$CORPUS_ROOT" -mindepth 1 -maxdepth 1 -type d | sort)
mapfile -t FILES < <(find "${DIRS[@]}" -maxdepth 1 -type f -name '*.eml' | sort)
[ ${#FILES[@]} -gt 0 ] || die "no *.eml under $CORPUS_ROOT"
ARGS=()
# The files, not the folders: `rebound parse DIR` also reads a folder's README and LICENSE.
for ((r = 0; r < REPEAT; r++)); do ARGS+=("${FILES[@]}"); done
cat "${FILES[@]}" > /dev/null # page cache

# Rates count input files for both tools; a file holding an mbox may print more lines.
n_rb=$((REPEAT * ${#FILES[@]}))
# As shipped (`--jobs` defaults to the CPUs this process may use), then on one thread.
JOBS=$(nproc); [ "$JOBS" -le 8 ] || JOBS=8 # the default of --jobs
for mode in all one; do
    jobs=()
    [ $mode = one ] && jobs=(--jobs 1)
    t0=$(ms)
    "$REBOUND" parse "${jobs[@]}" "${ARGS[@]}" > "$WORK/rebound-$mode.jsonl"
    t1=$(ms)
    lines=$(wc -l < "$WORK/rebound-$mode.jsonl")
    [ "$lines" -ge "$n_rb" ] || die "rebound parse printed $lines lines for $n_rb files"
    s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
    printf -v "rb_s_$mode" '%s' "$s"
    printf -v "rb_rate_$mode" '%s' "$(awk -v n="$n_rb" -v s="$s" 'BEGIN {printf "%.0f", n / s}')"
done
cmp -s "$WORK/rebound-all.jsonl" "$WORK/rebound-one.jsonl" ||
    die "rebound parse printed different lines on one thread and on $JOBS"

if [ -n "$HAVE_SISIMAI" ]; then
    SARGS=()
    SREP=$(( REPEAT < 3 ? REPEAT : 3 )) # Sisimai is slow: 3 passes are plenty
    for ((r = 0; r < SREP; r++)); do SARGS+=("${FILES[@]}"); done
    t0=$(ms)
    read -r n_ss _ _ < <(perl bench/sisimai.pl "${SARGS[@]}")
    t1=$(ms)
    ss_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
    ss_rate=$(awk -v n="$n_ss" -v s="$ss_s" 'BEGIN {printf "%.0f", n / s}')
    speedup=$(awk -v a="$rb_rate_all" -v b="$ss_rate" 'BEGIN {printf "%.1f", a / b}')
    speedup_one=$(awk -v a="$rb_rate_one" -v b="$ss_rate" 'BEGIN {printf "%.1f", a / b}')
else
    n_ss=-; ss_s=-; ss_rate=-; speedup=-; speedup_one=-
fi

# --- 2. huge bounces -----------------------------------------------------------------------
declare -A BIG_RB BIG_SS
for size in 15 100; do
    f="$WORK/bounce-${size}mb.eml"
    python3 bench/bigbounce.py "$size" "$f"
    cat "$f" > /dev/null
    : > "$WORK/t"
    for _ in 1 2 3 4 5; do
        t0=$(ms); "$REBOUND" parse "$f" > "$WORK/big.jsonl"; t1=$(ms)
        echo $(( (t1 - t0) / 1000 )) >> "$WORK/t"
    done
    grep -q '"kind":"bounce"' "$WORK/big.jsonl" || say "rebound parse: the ${size} MB bounce was not classified as a bounce: $(head -c 300 "$WORK/big.jsonl")"
    BIG_RB[$size]=$(sort -n "$WORK/t" | awk 'NR == 3 {printf "%.1f", $1 / 1000}')
    if [ -n "$HAVE_SISIMAI" ]; then
        t0=$(ms); timeout 600 perl bench/sisimai.pl "$f" > /dev/null || true; t1=$(ms)
        BIG_SS[$size]=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b - a) / 1e6}')
    else
        BIG_SS[$size]=-
    fi
done

printf '\nrebound parse benchmark, %s, %s, %d cores\n\n' "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)"
printf '%-34s %12s %12s %9s\n' "" rebound Sisimai speedup
printf '%-34s %12s %12s\n' "corpus messages parsed" "$n_rb" "$n_ss"
printf '%-34s %12s %12s\n' "seconds ($JOBS threads)" "$rb_s_all" "$ss_s"
printf '%-34s %12s %12s %8sx\n' "messages/s ($JOBS threads)" "$rb_rate_all" "$ss_rate" "$speedup"
printf '%-34s %12s %12s\n' "seconds (--jobs 1)" "$rb_s_one" "$ss_s"
printf '%-34s %12s %12s %8sx\n' "messages/s (--jobs 1)" "$rb_rate_one" "$ss_rate" "$speedup_one"
for size in 15 100; do
    printf '%-34s %12s %12s\n' "one ${size} MB bounce, ms (process)" "${BIG_RB[$size]}" "${BIG_SS[$size]}"
done
printf '\n(%d corpus files x %d passes for rebound; Sisimai: Sisimai->make per file, module load included)\n' \
    "${#FILES[@]}" "$REPEAT"
