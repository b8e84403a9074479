#!/usr/bin/env bash
# CI for the RPM: build the binary packages from rebound.spec with rpmbuild (Debian's `rpm`
# package builds EL specs fine when BuildRequires are not checked), list their files and
# compare them with what the spec promises, install them into a scratch root with
# `rpm --root DIR --nodeps`, run the installed binaries on a sample bounce, and run rpmlint
# (any error fails). One release build of the crate (the test suite already ran in CI:
# %check is skipped; RPM_CHECK=1 runs it).
# Needs: rpm, rpmlint, cargo, xz-utils, git; for the -selinux package also make, checkpolicy,
# selinux-policy-dev. Prints `rpm: N passed, N failed` last; exits non-zero on failure.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TOP=$ROOT/target/rpm
SPEC=$ROOT/packaging/rpm/rebound.spec
VERSION=$(sed -n 's/^Version: *//p' "$SPEC")
PASS=0
FAIL=0
check() {
	local name=$1
	shift
	if "$@"; then
		PASS=$((PASS + 1))
		echo "  ok   $name"
	else
		FAIL=$((FAIL + 1))
		echo "  FAIL $name"
	fi
}
finish() {
	echo "rpm: $PASS passed, $FAIL failed"
	((FAIL == 0))
	exit
}

for tool in rpmbuild rpm rpmlint cargo git xz; do
	command -v "$tool" >/dev/null || {
		echo "rpm: $tool missing (apt-get install rpm rpmlint xz-utils)" >&2
		exit 1
	}
done
CARGO_VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
check "spec Version $VERSION matches Cargo.toml $CARGO_VERSION" test "$VERSION" = "$CARGO_VERSION"

rm -rf "$TOP"
mkdir -p "$TOP"/{SOURCES,BUILD,RPMS,SRPMS,SPECS}
t0=$SECONDS
"$ROOT/packaging/rpm/make-vendor-tarball.sh" "$TOP/SOURCES" >/dev/null || {
	echo "rpm: making the source and vendor tarballs failed" >&2
	FAIL=$((FAIL + 1))
	finish
}
echo "rpm: sources in $((SECONDS - t0)) s"

opts=(--without check)
[[ -n "${RPM_CHECK:-}" ]] && opts=(--with check)
if [[ ! -f /usr/share/selinux/devel/Makefile ]]; then
	echo "rpm: no /usr/share/selinux/devel/Makefile: building without the -selinux package"
	opts+=(--without selinux)
fi
t0=$SECONDS
# --nodeps: BuildRequires name EL packages (rust-toolset, selinux-policy-devel).
if ! rpmbuild -bb --nodeps "${opts[@]}" --define "_topdir $TOP" "$SPEC" >"$TOP/rpmbuild.log" 2>&1; then
	tail -40 "$TOP/rpmbuild.log"
	FAIL=$((FAIL + 1))
	finish
fi
echo "rpm: rpmbuild -bb in $((SECONDS - t0)) s"
mapfile -t RPMS < <(find "$TOP/RPMS" -name '*.rpm' | sort)
MAIN=$(printf '%s\n' "${RPMS[@]}" | grep -v -- '-selinux-' | head -1)
check "binary package built" test -f "$MAIN"

echo "rpm: files of $(basename "$MAIN"):"
rpm -qlvp "$MAIN" | sed 's/^/    /'
list=$(rpm -qlp "$MAIN")
for f in /usr/bin/rebound /usr/libexec/rebound/rebound-lda /etc/rebound.conf /var/lib/rebound \
	/usr/share/licenses/rebound/LICENSE \
	/usr/share/doc/rebound/README.md /usr/share/doc/rebound/mta/postfix-master.cf; do
	check "package has $f" grep -qx -- "$f" <<<"$list"
done
# Man pages: compressed by the build host's brp-compress (gzip on EL, bzip2 on Debian).
for m in man8/rebound-lda.8 man8/rebound.8 man5/rebound.conf.5; do
	check "package has /usr/share/man/$m" grep -q -- "^/usr/share/man/$m\(\.gz\|\.bz2\|\.xz\)\?\$" <<<"$list"
done
check "/etc/rebound.conf is %config(noreplace)" \
	bash -c "rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' '$MAIN' | grep -qx '/etc/rebound.conf cn'"
check "/var/lib/rebound is rebound:rebound 0750" \
	bash -c "rpm -qp --qf '[%{FILENAMES} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILEMODES:perms}\n]' '$MAIN' | grep -qx '/var/lib/rebound rebound:rebound drwxr-x---'"
check "%pre creates the rebound user" bash -c "rpm -qp --scripts '$MAIN' | grep -q 'useradd -r -g rebound'"
SEL=$(printf '%s\n' "${RPMS[@]}" | grep -- '-selinux-' | head -1)
if [[ -n "$SEL" ]]; then
	check "selinux package ships rebound.pp" \
		bash -c "rpm -qlp '$SEL' | grep -qx /usr/share/selinux/packages/targeted/rebound.pp"
fi

# Install into a scratch root, as a new user would, and run what was installed.
SCRATCH=$TOP/root
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
rpm --root "$SCRATCH" --initdb
check "rpm --root --nodeps -i installs" \
	rpm --root "$SCRATCH" --nodeps --noscripts -i "${RPMS[@]}"
# rpm -V: only owner/group may differ (the rebound user is not in the scratch root).
check "rpm -V finds the installed files intact" \
	bash -c "! rpm --root '$SCRATCH' -V --nodeps rebound | grep -vE '^\.{5}[U.][G.]\.\.' | grep -q ."
check "installed rebound --version" bash -c "'$SCRATCH/usr/bin/rebound' --version | grep -q '$VERSION'"
check "installed rebound-lda --help" "$SCRATCH/usr/libexec/rebound/rebound-lda" --help
check "installed rebound.conf parses (rebound-lda -c)" bash -c \
	"printf 'Subject: t\n\nx\n' | '$SCRATCH/usr/libexec/rebound/rebound-lda' -c '$SCRATCH/etc/rebound.conf' -o maildir='$TOP/md-conf' -o database='$TOP/conf.db' -o log=stderr"
SAMPLE=$TOP/sample-dsn.eml
cat >"$SAMPLE" <<'MSG'
Return-Path: <>
Delivered-To: bounces+joe=example.net@sender.example.com
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: bounces+joe=example.net@sender.example.com
Subject: Undelivered Mail Returned to Sender
Message-ID: <rpm-ci-sample@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

<joe@example.net>: host mx.example.net[192.0.2.25] said: 550 5.1.1 <joe@example.net>:
    Recipient address rejected: User unknown

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; joe@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <joe@example.net>: Recipient address rejected: User unknown

--b
Content-Type: text/rfc822-headers

From: news@sender.example.com
To: joe@example.net
Subject: news

--b--
MSG
MD=$TOP/Maildir
DB=$TOP/rebound.db
"$SCRATCH/usr/libexec/rebound/rebound-lda" -o maildir="$MD" -o database="$DB" -o log=stderr \
	<"$SAMPLE" 2>"$TOP/lda.stderr"
rc=$?
check "installed rebound-lda files the sample (exit 0)" test "$rc" -eq 0
check "one file in the Maildir" test "$(find "$MD" -path '*/new/*' -type f | wc -l)" -eq 1
check "recorded: joe@example.net hard" test \
	"$(sqlite3 "$DB" "select address||' '||hard from events" 2>/dev/null)" = "joe@example.net 1"
check "installed rebound reads it back" bash -c \
	"'$SCRATCH/usr/bin/rebound' -o database='$DB' check joe@example.net >/dev/null 2>&1; test \$? -eq 1"

# rpmlint: errors fail, warnings are shown.
rpmlint -c "$ROOT/packaging/rpm/rpmlint.toml" "$SPEC" "${RPMS[@]}" >"$TOP/rpmlint.log" 2>&1
sed 's/^/    /' "$TOP/rpmlint.log"
check "rpmlint: no errors" bash -c "! grep -qE '^[^ ]+: E: ' '$TOP/rpmlint.log'"
finish
