#!/usr/bin/env bash
# CI driver of the real-MTA tests: Postfix first, then Sendmail, then Exim (Debian allows one
# MTA at a time: installing sendmail-bin removes postfix, exim4-daemon-light removes
# sendmail). Installs the packages it needs with apt (as root, CI=true or --install), runs
# tests/mta/postfix.sh, sendmail.sh and exim.sh on the release binary, and ends with
# `mta: N passed, N failed` (the number of scripts).
# Usage: tests/mta/ci.sh [--install] [postfix|sendmail|exim]...
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
install=
[[ "${CI:-}" == true ]] && install=1
suites=()
for arg in "$@"; do
	case $arg in
	--install) install=1 ;;
	postfix | sendmail | exim) suites+=("$arg") ;;
	*)
		echo "usage: $0 [--install] [postfix|sendmail|exim]..." >&2
		exit 2
		;;
	esac
done
((${#suites[@]})) || suites=(postfix sendmail exim)

apt_install() {
	[[ -n "$install" ]] || return 0
	local t0=$SECONDS
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/tmp/rebound-mta-apt.log 2>&1 ||
		{
			tail -20 /tmp/rebound-mta-apt.log
			return 1
		}
	echo "mta: apt-get install $* ($((SECONDS - t0)) s)"
}

pass=0
fail=0
for suite in "${suites[@]}"; do
	case $suite in
	postfix) apt_install postfix sqlite3 python3 iproute2 util-linux ;;
	sendmail) apt_install sendmail-bin sendmail-cf m4 sqlite3 python3 iproute2 util-linux ;;
	exim) apt_install exim4-daemon-light sqlite3 python3 iproute2 util-linux ;;
	esac || {
		fail=$((fail + 1))
		continue
	}
	t0=$SECONDS
	if "$HERE/$suite.sh"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
	echo "mta: $suite took $((SECONDS - t0)) s"
done
echo "mta: $pass passed, $fail failed"
((fail == 0))
