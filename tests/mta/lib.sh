# Shared helpers of the MTA end-to-end tests (tests/mta/postfix.sh, sendmail.sh, exim.sh).
#
# Each test runs the real MTA from Debian's packages inside a private mount and network
# namespace (`unshare --mount --net`): only a loopback interface, its own /dev (with a
# /dev/log read by syslogd.py), its own /etc/resolv.conf naming dns_nxdomain.py, and the
# MTA's configuration and queue directories bind-mounted from a scratch directory. Nothing
# it does is visible outside, and nothing is left running: the daemons die with the test.
# Sourced, not run: first outside the namespace (for enter_namespace), then inside.

# enter_namespace WORKBASE "PACKAGES" "TOOLS" MOUNT_POINTS -- SCRIPT ARGS...: outside the
# namespace, check for root, the tools (else name the packages to install) and the built
# agent ($REBOUND_LDA or the release build of scripts/build), make the scratch directory under
# WORKBASE and the mount points (they stay empty outside), re-run SCRIPT in a private mount +
# network namespace with WORK and REBOUND_LDA_SRC set, then keep the scratch directory only
# on failure or with KEEP=1, and exit with its status. Inside the namespace it returns.
enter_namespace() {
	[[ -n "${REBOUND_MTA_INNER:-}" ]] && return 0
	local base=$1 packages=$2 tools=$3 mounts=$4 tool lda work rc
	shift 5
	if [[ $(id -u) -ne 0 ]]; then
		echo "$NAME: must run as root (it runs the MTA in a private namespace)" >&2
		exit 2
	fi
	for tool in $tools unshare ip; do
		if ! command -v "$tool" >/dev/null; then
			echo "$NAME: $tool not found; apt-get install $packages iproute2" >&2
			exit 2
		fi
	done
	lda=${REBOUND_LDA:-$("$ROOT/scripts/build" --print-dir)/rebound-lda}
	if [[ ! -x "$lda" ]]; then
		echo "$NAME: $lda not built; run scripts/build first" >&2
		exit 2
	fi
	work=$(mktemp -d "$base/rebound-$NAME.XXXXXX")
	chmod 0755 "$work"
	# shellcheck disable=SC2086
	[[ -z "$mounts" ]] || mkdir -p $mounts
	REBOUND_MTA_INNER=1 REBOUND_LDA_SRC=$lda WORK=$work \
		unshare --mount --net --propagation private "$@"
	rc=$?
	if [[ $rc -eq 0 && -z "${KEEP:-}" ]]; then
		rm -rf "$work"
	else
		echo "$NAME: scratch directory kept: $work"
	fi
	exit $rc
}

PASS=0
FAIL=0
FAILED_CHECKS=()

say() { printf '%s\n' "$*"; }

# check NAME COMMAND...: one counted assertion.
check() {
	local name=$1
	shift
	if "$@"; then
		PASS=$((PASS + 1))
		say "  ok   $name"
	else
		FAIL=$((FAIL + 1))
		FAILED_CHECKS+=("$name")
		say "  FAIL $name"
	fi
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; false on timeout.
wait_for() {
	local limit=$1
	shift
	local start=$SECONDS
	until "$@"; do
		if ((SECONDS - start >= limit)); then
			return 1
		fi
		sleep 0.5
	done
}

# Set up the private /dev (with /dev/log), resolv.conf and loopback inside the namespace.
# $1: scratch directory.
private_world() {
	local w=$1
	ip link set lo up
	mkdir -p "$w/hostdev" "$w/run"
	mount --rbind /dev "$w/hostdev"
	mount -t tmpfs -o mode=0755 tmpfs /dev
	local n
	for n in null zero full random urandom tty; do
		touch "/dev/$n"
		mount --bind "$w/hostdev/$n" "/dev/$n"
	done
	mkdir -p /dev/pts /dev/shm
	mount --rbind "$w/hostdev/pts" /dev/pts 2>/dev/null || true
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	ln -s /proc/self/fd /dev/fd
	ln -s /proc/self/fd/0 /dev/stdin
	ln -s /proc/self/fd/1 /dev/stdout
	ln -s /proc/self/fd/2 /dev/stderr
	printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"$w/resolv.conf"
	mount --bind "$w/resolv.conf" /etc/resolv.conf
	printf '127.0.0.1\tlocalhost\n' >"$w/hosts"
	mount --bind "$w/hosts" /etc/hosts
}

# bind_dir SRC DST: bind-mount SRC over DST, creating DST (an empty mount point) if needed.
bind_dir() {
	mkdir -p "$2"
	mount --bind "$1" "$2"
}

# Start the loopback helpers; their PIDs go to HELPER_PIDS. $1 scratch dir, $2 SMTP sink port.
HELPER_PIDS=()
start_helpers() {
	local w=$1 port=$2 here
	here=$(dirname "${BASH_SOURCE[0]}")
	python3 "$here/syslogd.py" /dev/log "$w/syslog" &
	HELPER_PIDS+=($!)
	python3 "$here/dns_nxdomain.py" &
	HELPER_PIDS+=($!)
	python3 "$here/smtp_sink.py" "$port" "$w/sink.log" &
	HELPER_PIDS+=($!)
	wait_for 10 test -S /dev/log || say "syslogd.py did not start"
	wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null || say "smtp_sink.py did not start"
}

stop_helpers() {
	local pid
	for pid in "${HELPER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	HELPER_PIDS=()
}

# ensure_user NAME HOME: a system user for the test (kept: it is what the package creates).
ensure_user() {
	if ! getent passwd "$1" >/dev/null; then
		useradd --system --user-group --home-dir "$2" --no-create-home \
			--shell /usr/sbin/nologin --comment "rebound test user" "$1"
	fi
}

user_home() { getent passwd "$1" | cut -d: -f6; }

# scratch_home USER: an empty home for USER in the scratch directory ($WORK/home-USER, owned
# by USER, 0750), bind-mounted over the user's home for the test.
scratch_home() {
	mkdir -p "$WORK/home-$1"
	chown "$1:$1" "$WORK/home-$1"
	chmod 0750 "$WORK/home-$1"
	bind_dir "$WORK/home-$1" "$(user_home "$1")"
}

# as_owner FILE CMD...: run CMD as the owner of FILE (an admin reads the database as its
# owner: root would leave root-owned -wal/-shm files the agent could not open).
as_owner() {
	local f=$1
	shift
	setpriv --reuid="$(stat -c %u "$f")" --regid="$(stat -c %g "$f")" --clear-groups "$@"
}

# syslog_from N: lines of the test's syslog after line N.
syslog_from() { tail -n +"$(($1 + 1))" "$WORK/syslog"; }

# count_new MAILDIR: files in new/ of the Maildir and all its Maildir++ folders.
count_new() {
	(cd "$1" 2>/dev/null && find . -path '*/new/*' -type f | wc -l) || echo 0
}

# count_tmp MAILDIR: files left in tmp/ (must stay 0).
count_tmp() {
	(cd "$1" 2>/dev/null && find . -path '*/tmp/*' -type f | wc -l) || echo 0
}

# sql DB QUERY: one value (or rows, '|'-separated) from the test's database.
sql() {
	sqlite3 -batch -noheader "file:$1?mode=ro" "$2" 2>/dev/null
}

# expect_eq ACTUAL WANTED: equality with a diagnostic on mismatch.
expect_eq() {
	if [[ "$1" == "$2" ]]; then
		return 0
	fi
	say "       got '$1', want '$2'"
	return 1
}

summary() {
	local name=$1
	if ((FAIL > 0)); then
		say ""
		say "failed checks:"
		local c
		for c in "${FAILED_CHECKS[@]}"; do
			say "  - $c"
		done
	fi
	say ""
	say "$name: $PASS passed, $FAIL failed"
}
