#!/usr/bin/env bash
# Build the rebound SELinux policy module (rebound.te/.fc/.if) with the reference policy's
# development Makefile, as `make -f /usr/share/selinux/devel/Makefile` does on an EL host
# (package selinux-policy-devel there, selinux-policy-dev on Debian), then check the
# package: it unpacks, and its file contexts label the agent and its state directory.
# Output: target/selinux/rebound.pp. Exits non-zero on any failure.
# Needs: make, checkpolicy, semodule-utils, selinux-policy-dev (Debian) / selinux-policy-devel.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
MAKEFILE=${SELINUX_DEVEL_MAKEFILE:-/usr/share/selinux/devel/Makefile}
OUT=$ROOT/target/selinux

for tool in make checkmodule semodule_package semodule_unpackage; do
	command -v "$tool" >/dev/null || {
		echo "selinux: $tool missing (apt-get install checkpolicy semodule-utils selinux-policy-dev)" >&2
		exit 1
	}
done
[[ -f "$MAKEFILE" ]] || {
	echo "selinux: $MAKEFILE missing (apt-get install selinux-policy-dev)" >&2
	exit 1
}

rm -rf "$OUT"
mkdir -p "$OUT"
cp "$HERE/rebound.te" "$HERE/rebound.fc" "$HERE/rebound.if" "$OUT/"
make -s -C "$OUT" -f "$MAKEFILE" rebound.pp

pass=0
fail=0
check() {
	local name=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "  ok   $name"
	else
		fail=$((fail + 1))
		echo "  FAIL $name"
	fi
}
(cd "$OUT" && semodule_unpackage rebound.pp unpacked.mod unpacked.fc)
check "module package built" test -s "$OUT/rebound.pp"
check "module unpacks" test -s "$OUT/unpacked.mod"
check "rebound-lda labelled rebound_exec_t" grep -q '^/usr/libexec/rebound/rebound-lda.*rebound_exec_t' "$OUT/unpacked.fc"
check "/var/lib/rebound labelled rebound_var_lib_t" grep -q '^/var/lib/rebound(/\.\*)?.*rebound_var_lib_t' "$OUT/unpacked.fc"
check "module declares rebound_t" grep -qa rebound_t "$OUT/unpacked.mod"
echo "selinux: $pass passed, $fail failed ($OUT/rebound.pp, $(stat -c %s "$OUT/rebound.pp") bytes)"
((fail == 0))
