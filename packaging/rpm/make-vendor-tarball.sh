#!/usr/bin/env bash
# Make the two sources of rebound.spec for an offline build (EL build hosts and mock have
# no network): the source tarball of the working tree's tracked files, and a tarball of
# every crate of Cargo.lock made with `cargo vendor`. The spec points cargo at vendor/
# through .cargo/config.toml and builds with --frozen, so the lock file is the whole truth.
# Usage: packaging/rpm/make-vendor-tarball.sh [OUTDIR]   (default: target/rpm/SOURCES)
# Prints the two file names.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:-$ROOT/target/rpm/SOURCES}
cd "$ROOT"
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
NAME=rebound
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Source0: what git tracks, as it is in the working tree (uncommitted edits included).
git ls-files -z | tar --null --files-from=- --transform "s,^,$NAME-$VERSION/," \
	--owner=0 --group=0 --numeric-owner -czf "$OUT/$NAME-$VERSION.tar.gz"

# Source1: vendor/ with every crate of Cargo.lock, checksums included.
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cargo vendor --locked --versioned-dirs --quiet "$STAGE/vendor" >/dev/null
XZ_OPT=${XZ_OPT:--2 -T0} tar -C "$STAGE" --owner=0 --group=0 --numeric-owner -cJf "$OUT/$NAME-$VERSION-vendor.tar.xz" vendor

echo "$OUT/$NAME-$VERSION.tar.gz"
echo "$OUT/$NAME-$VERSION-vendor.tar.xz"
