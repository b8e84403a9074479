#!/bin/bash
# Runs every fuzz target of fuzz/ for a bounded time (FUZZ_SECONDS, default 60 each) when the
# toolchain allows it, and skips with a message otherwise. cargo-fuzz needs nightly compiler
# flags: it uses the nightly toolchain when rustup has one, else stable with RUSTC_BOOTSTRAP=1;
# it installs cargo-fuzz from crates.io when missing. A crash fails the run and leaves the
# input under fuzz/artifacts/TARGET/: turn it into a regression sample (tests/samples/fuzz/)
# or a no-panic test, then fix.
#
# Usage (from the crate root or anywhere): fuzz/ci-run.sh [TARGET...]
# Environment: FUZZ_SECONDS=60, CORPUS=DIR (seed messages, default ../shared/corpus/sisimai).
set -uo pipefail

cd "$(dirname "$0")"
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(classify deliver)
skip() { echo "fuzz: skipped: $*"; exit 0; }

TOOLCHAIN=()
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    TOOLCHAIN=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked --quiet >/dev/null 2>&1 || skip "cargo-fuzz cannot be installed here"
fi
command -v c++ >/dev/null || skip "libFuzzer needs a C++ compiler (apt-get install g++)"

# The deliver target runs the real agent.
(cd .. && scripts/build --quiet --bin rebound-lda) || { echo "fuzz: cannot build rebound-lda"; exit 1; }
REBOUND_LDA=$(../scripts/build --print-dir)/rebound-lda
export REBOUND_LDA

SEEDS=${CORPUS:-../../shared/corpus/sisimai}
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "corpus/$t"
    if [ -d "$SEEDS" ] && [ -z "$(ls -A "corpus/$t")" ]; then
        cp "$SEEDS"/*.eml "corpus/$t/" 2>/dev/null || true
    fi
    echo "fuzz: $t for ${FUZZ_SECONDS}s"
    if ! cargo "${TOOLCHAIN[@]}" fuzz build "$t" 2>build.log; then
        # Sanitizer runtime missing on this toolchain: try without ASan before giving up.
        cargo "${TOOLCHAIN[@]}" fuzz build -s none "$t" 2>>build.log ||
            { tail -20 build.log; skip "cargo fuzz cannot build $t with this toolchain"; }
        SAN=(-s none)
    else
        SAN=()
    fi
    if ! cargo "${TOOLCHAIN[@]}" fuzz run "${SAN[@]}" "$t" "corpus/$t" -- \
        -max_total_time="$FUZZ_SECONDS" -max_len=1048576 -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 2>"run-$t.log"; then
        tail -40 "run-$t.log"
        echo "fuzz: $t FOUND A CRASH, input saved under fuzz/artifacts/$t/"
        status=1
    else
        grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "run-$t.log" | sed "s/^/fuzz: $t: /"
        echo "fuzz: $t: no crash in ${FUZZ_SECONDS}s"
    fi
done
exit $status
