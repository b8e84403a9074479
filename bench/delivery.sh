#!/bin/bash
# Delivery benchmark: rebound-lda beside the agents it replaces, on the same machine, the same
# messages and in one run. Every agent is started once per message, as an MTA starts it, by
# bench/drive.c (posix_spawn, message on stdin), first one at a time, then 8 at once, into a
# fresh Maildir:
#   floor        bench/floor.c: write + fsync + rename one file, nothing else (the limit)
#   floor+dir    the same plus an fsync of new/ after the rename (the limit of a delivery
#                that survives a power cut, which DESIGN.md asks of rebound-lda)
#   floor+db     examples/floor-db.rs: floor+dir, then one record of a fixed hard bounce in
#                rebound's database through rebound's own store (the limit of a delivery
#                that keeps rebound-lda's promises: durable, and recorded; no classifier)
#   procmail     Debian's procmail, DEFAULT=Maildir/
#   maildrop     Debian's maildrop, DEFAULT=Maildir
#   dovecot-lda  Debian's dovecot-core, minimal -c config, mail_location = maildir:...
#   rebound-lda  the release build, -o maildir=... -o database=...
# The messages are real bounces (../shared/corpus/sisimai, else tests/samples), cycled to N and
# made distinct by one added header, so each is a new row for rebound. Agents run in turns on
# chunks of the list so that noise from other processes falls on all of them alike.
# Afterwards it checks that N files landed per agent (and N rows in rebound's database) and
# prints per agent: median and p99 ms a message, messages/s, peak RSS, and rebound's ratio.
#
# Usage (as root on a Debian 12 machine, from the crate root):
#   bench/delivery.sh [N]          N messages per agent and mode (default 1000)
# Environment: CORPUS=DIR (messages), BENCH_DIR=DIR (work area, default a new dir in
#   /var/tmp), JOBS=8 (parallel width), CHUNKS=5, NO_INSTALL=1 (do not apt-get), KEEP=1.
set -euo pipefail

N=${1:-1000}
JOBS=${JOBS:-8}
CHUNKS=${CHUNKS:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

say() { printf '%s\n' "$*" >&2; }
die() { say "delivery.sh: $*"; exit 1; }

# --- peers -----------------------------------------------------------------------------
if [ "$(id -u)" = 0 ] && [ -z "${NO_INSTALL:-}" ]; then
    need=()
    [ -x /usr/lib/dovecot/dovecot-lda ] || need+=(dovecot-core)
    command -v procmail >/dev/null || need+=(procmail)
    command -v maildrop >/dev/null || need+=(maildrop)
    command -v sqlite3 >/dev/null || need+=(sqlite3)
    command -v cc >/dev/null || need+=(gcc)
    if [ ${#need[@]} -gt 0 ]; then
        say "installing ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 \
            "${need[@]}" >/dev/null
    fi
fi

# --- work area, plain user --------------------------------------------------------------
BENCH_DIR=${BENCH_DIR:-$(mktemp -d /var/tmp/rebound-bench.XXXXXX)}
mkdir -p "$BENCH_DIR"
chmod 755 "$BENCH_DIR"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$BENCH_DIR"' EXIT
RUNAS=()
if [ "$(id -u)" = 0 ]; then
    # The agents run as a plain user, as under Postfix's mailbox_command (dovecot-lda refuses
    # some set-ups as root, and no agent should be measured with root's shortcuts).
    id rbench >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin rbench
    RUNAS=(runuser -u rbench --)
    chown rbench "$BENCH_DIR"
fi

cc -O2 -o "$BENCH_DIR/floor" bench/floor.c
cc -O2 -o "$BENCH_DIR/drive" bench/drive.c
say "building rebound-lda and floor-db (release, as shipped: scripts/build)"
scripts/build --quiet --bin rebound-lda --example floor-db
LDA=$(scripts/build --print-dir)/rebound-lda
[ -x "$LDA" ] || die "no rebound-lda at $LDA"
cp "$LDA" "$BENCH_DIR/rebound-lda"
cp "$(scripts/build --print-dir)/examples/floor-db" "$BENCH_DIR/floor-db"

# --- messages ---------------------------------------------------------------------------
CORPUS=${CORPUS:-}
if [ -z "$CORPUS" ]; then
    if [ -d ../shared/corpus/sisimai ]; then CORPUS=../shared/corpus/sisimai
    elif [ -d tests/samples ]; then CORPUS=tests/samples
    else die "no messages: set CORPUS=DIR"; fi
fi
mapfile -t SRC < <(find "$CORPUS" -type f -name '*.eml' | sort)
[ ${#SRC[@]} -gt 0 ] || die "no *.eml in $CORPUS"
mkdir -p "$BENCH_DIR/msgs"
: > "$BENCH_DIR/list"
for ((i = 0; i < N; i++)); do
    f="$BENCH_DIR/msgs/$i.eml"
    { printf 'X-Bench-Seq: %d\n' "$i"; cat "${SRC[i % ${#SRC[@]}]}"; } > "$f"
    printf '%s\n' "$f" >> "$BENCH_DIR/list"
done
split -n "l/$CHUNKS" -d "$BENCH_DIR/list" "$BENCH_DIR/chunk."
chmod -R a+rX "$BENCH_DIR"
say "$N messages from $CORPUS (${#SRC[@]} distinct, $(du -sh "$BENCH_DIR/msgs" | cut -f1))"

# --- agents -----------------------------------------------------------------------------
AGENTS=(floor floor+dir floor+db)
command -v procmail >/dev/null && AGENTS+=(procmail) || say "procmail missing: skipped"
command -v maildrop >/dev/null && AGENTS+=(maildrop) || say "maildrop missing: skipped"
[ -x /usr/lib/dovecot/dovecot-lda ] && AGENTS+=(dovecot-lda) || say "dovecot-lda missing: skipped"
AGENTS+=(rebound-lda)

# prepare AGENT MODE: a fresh home with an empty Maildir and the agent's config.
prepare() {
    local h="$BENCH_DIR/run/$2/$1"
    rm -rf "$h"
    mkdir -p "$h/Maildir/tmp" "$h/Maildir/new" "$h/Maildir/cur"
    case $1 in
    procmail) printf 'MAILDIR=%s/Maildir\nDEFAULT=%s/Maildir/\n' "$h" "$h" > "$h/rc" ;;
    maildrop) printf 'DEFAULT="%s/Maildir"\n' "$h" > "$h/rc"; chmod 600 "$h/rc" ;;
    dovecot-lda)
        mkdir -p "$h/run"
        printf 'mail_location = maildir:%s/Maildir\nbase_dir = %s/run\nlog_path = %s/log\ninfo_log_path = %s/log\n' \
            "$h" "$h" "$h" "$h" > "$h/rc" ;;
    esac
    [ ${#RUNAS[@]} -eq 0 ] || chown -R rbench "$BENCH_DIR/run"
}

# command AGENT MODE: the argv an MTA would run.
command_of() {
    local h="$BENCH_DIR/run/$2/$1"
    case $1 in
    floor) echo "$BENCH_DIR/floor $h/Maildir" ;;
    floor+dir) echo "$BENCH_DIR/floor -d $h/Maildir" ;;
    floor+db) echo "$BENCH_DIR/floor-db $h/Maildir $h/rebound.db" ;;
    procmail) echo "procmail $h/rc" ;;
    maildrop) echo "maildrop $h/rc" ;;
    dovecot-lda) echo "/usr/lib/dovecot/dovecot-lda -c $h/rc" ;;
    rebound-lda) echo "$BENCH_DIR/rebound-lda -o maildir=$h/Maildir -o database=$h/rebound.db" ;;
    esac
}

# Warm every binary and library into the page cache before anything is timed.
mkdir -p "$BENCH_DIR/run"
head -n 5 "$BENCH_DIR/list" > "$BENCH_DIR/warm"
for a in "${AGENTS[@]}"; do
    prepare "$a" warm
    # shellcheck disable=SC2046
    HOME="$BENCH_DIR/run/warm/$a" "${RUNAS[@]}" "$BENCH_DIR/drive" -j 1 -l "$BENCH_DIR/warm" \
        -e /dev/null -- $(command_of "$a" warm) >/dev/null
done

declare -A MED P99 RATE RSS LOST
for mode in seq par; do
    j=1
    [ $mode = par ] && j=$JOBS
    for a in "${AGENTS[@]}"; do
        prepare "$a" $mode
        : > "$BENCH_DIR/run/$mode/$a.times"
        : > "$BENCH_DIR/run/$mode/$a.wall"
    done
    [ ${#RUNAS[@]} -eq 0 ] || chown -R rbench "$BENCH_DIR/run"
    for c in "$BENCH_DIR"/chunk.*; do
        for a in "${AGENTS[@]}"; do
            h="$BENCH_DIR/run/$mode/$a"
            # shellcheck disable=SC2046
            HOME="$h" "${RUNAS[@]}" "$BENCH_DIR/drive" -j "$j" -l "$c" -e "$h.stderr" \
                -t "$h.times" -- $(command_of "$a" $mode) >> "$h.wall"
        done
    done
    for a in "${AGENTS[@]}"; do
        h="$BENCH_DIR/run/$mode/$a"
        # drive prints: n ok fail wall_s peak_rss_kb
        read -r n ok fail wall peak < <(awk '{n+=$1; ok+=$2; f+=$3; w+=$4; if ($5>p) p=$5}
            END {print n, ok, f, w, p}' "$h.wall")
        files=$(find "$h/Maildir" -path '*/new/*' -type f | wc -l)
        lost=$((N - files))
        if [ "$a" = rebound-lda ] || [ "$a" = floor+db ]; then
            rows=$(sqlite3 "$h/rebound.db" 'SELECT count(*) FROM messages' 2>/dev/null || echo 0)
            [ "$rows" = "$N" ] || { say "$a $mode: $rows rows for $N messages";
                lost=$((lost > N - rows ? lost : N - rows)); }
        fi
        [ "$fail" = 0 ] || say "$a $mode: $fail deliveries exited non-zero (see $h.stderr)"
        sort -g "$h.times" > "$h.sorted"
        MED[$a.$mode]=$(awk -v n="$n" 'NR == int(n/2)+1 {print; exit}' "$h.sorted")
        P99[$a.$mode]=$(awk -v n="$n" 'NR == int((n-1)*0.99)+1 {print; exit}' "$h.sorted")
        RATE[$a.$mode]=$(awk -v n="$n" -v w="$wall" 'BEGIN {printf "%.0f", n / w}')
        RSS[$a.$mode]=$(awk -v k="$peak" 'BEGIN {printf "%.1f", k / 1024}')
        LOST[$a.$mode]=$lost
    done
done

# --- table ------------------------------------------------------------------------------
printf '\nrebound-lda delivery benchmark: %d messages per agent and mode, %s, %s, %d cores\n' \
    "$N" "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%MZ)" "$(nproc)"
printf 'rebound/x: rebound-lda median (seq) or time per message at full load (par) divided by the agent'"'"'s; below 1 means rebound is faster\n\n'
printf '%-12s %-4s %10s %10s %8s %9s %9s %5s\n' agent mode median_ms p99_ms msgs/s peak_MB rebound/x lost
for mode in seq par; do
    for a in "${AGENTS[@]}"; do
        if [ $mode = seq ]; then
            r=$(awk -v a="${MED[rebound-lda.$mode]}" -v b="${MED[$a.$mode]}" 'BEGIN {printf "%.2f", a / b}')
        else
            r=$(awk -v a="${RATE[rebound-lda.$mode]}" -v b="${RATE[$a.$mode]}" 'BEGIN {printf "%.2f", b / a}')
        fi
        printf '%-12s %-4s %10.2f %10.2f %8s %9s %9s %5s\n' "$a" "$mode$([ $mode = par ] && echo "$JOBS")" \
            "${MED[$a.$mode]}" "${P99[$a.$mode]}" "${RATE[$a.$mode]}" "${RSS[$a.$mode]}" "$r" "${LOST[$a.$mode]}"
    done
done
total_lost=0
for v in "${LOST[@]}"; do total_lost=$((total_lost + v)); done
[ "$total_lost" = 0 ] || die "$total_lost messages or rows missing"
