#!/usr/bin/env bash
# End-to-end test with a real Sendmail (Debian's `sendmail-bin`): Sendmail writes its own
# bounces and delivers them to rebound-lda, which must file and record each one.
#
# Six messages leave sender.test, each with its recipient's VERP return path
# (`-f bounces+<local>=<domain>@sender.test`: Sendmail has no -XV), to recipients that fail
# the ways Sendmail reports itself: an unknown local user, a domain the DNS stub answers
# NXDOMAIN for, and the loopback sink's 550 5.1.1 / 552 5.2.2 / 550 5.7.1 / 451 4.3.0 (the
# last returned by a queue run with Timeout.queuereturn=1s: Sendmail's "failed" DSN says
# Status: 4.4.7, the remote's 451 4.3.0 only in Diagnostic-Code). The bounces reach `bounces`:
#
#   phase 1: FEATURE(local_procmail) with `rebound-lda -a $h -d $u`: started as root, the
#            agent drops to the -d user (bounces) and files into ~bounces/Maildir
#   phase 2: an aliases pipe through smrsh (FEATURE(smrsh), link in /etc/mail/smrsh); it
#            runs as Sendmail's DefaultUser (mail)
#   phase 3: exit 75 from an unwritable Maildir leaves the bounce queued (stat=Deferred),
#            and a queue run delivers it once fixed
#
# Runs as root in a private mount + network namespace (see lib.sh). Installing
# sendmail-bin removes Postfix: run tests/mta/postfix.sh first.
# Usage: tests/mta/sendmail.sh     (REBOUND_LDA=path, KEEP=1 as for postfix.sh)

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NAME=mta-sendmail

# shellcheck source=tests/mta/lib.sh
. "$HERE/lib.sh"
if [[ -z "${REBOUND_MTA_INNER:-}" && ! -f /usr/share/sendmail/cf/m4/cf.m4 ]]; then
	echo "$NAME: sendmail-cf missing" >&2
	exit 2
fi
# Not under /tmp: Sendmail refuses map files and warns about programs below a
# world-writable directory.
enter_namespace /run "sendmail-bin sendmail-cf m4 sqlite3 python3" "sendmail makemap m4 sqlite3 python3" \
	"/var/lib/rebound /var/spool/mqueue /var/spool/mqueue-client /run/sendmail" -- "$0" "$@"

# ---- inside the namespace ---------------------------------------------------------------

SINK_PORT=2525
SENDER_DOMAIN=sender.test
BIN=$WORK/bin/rebound-lda
declare -A WANT=(
	[nosuchuser@sender.test]="5.1.1 userunknown 1"
	[someone@nowhere.test]="5.1.2 hostunknown 1"
	[unknown@remote.test]="5.1.1 userunknown 1"
	[full@remote.test]="5.2.2 mailboxfull 0"
	[spam@remote.test]="5.7.1 spamdetected 0"
	[later@remote.test]="4.4.7 expired 0"
)
DAEMON_PID=

cleanup() {
	local pid
	pid=$(head -1 /run/sendmail/mta/sendmail.pid 2>/dev/null)
	[[ -n "$pid" ]] && kill "$pid" 2>/dev/null
	[[ -n "$DAEMON_PID" ]] && kill "$DAEMON_PID" 2>/dev/null
	stop_helpers
}
trap cleanup EXIT

private_world "$WORK"
mkdir -p "$WORK/bin"
install -m 0755 "$REBOUND_LDA_SRC" "$BIN"

ensure_user bounces /home/bounces
scratch_home bounces
BOUNCES_HOME=$(user_home bounces)
# Phase 2's Maildir and database, writable by the DefaultUser.
install -d -o mail -g mail -m 0750 "$WORK/mailspool"

# Sendmail: own /etc/mail, queues and run directory over the standard ones.
# shellcheck disable=SC2174
mkdir -p "$WORK/etc-mail" "$WORK/mqueue" "$WORK/mqueue-client" "$WORK/run"
cp -a /etc/mail/. "$WORK/etc-mail/"
bind_dir "$WORK/etc-mail" /etc/mail
bind_dir "$WORK/mqueue" /var/spool/mqueue
bind_dir "$WORK/mqueue-client" /var/spool/mqueue-client
bind_dir "$WORK/run" /run/sendmail
chmod 0700 /var/spool/mqueue
chown smmsp:smmsp /var/spool/mqueue-client 2>/dev/null
chmod 0770 /var/spool/mqueue-client
install -d -m 0755 /run/sendmail/mta /run/sendmail/msp
chown smmsp:smmsp /run/sendmail/msp 2>/dev/null

cat >/etc/mail/rebound-test.mc <<'EOF'
divert(-1)dnl
rebound end-to-end test: loopback only, sender.test is local, remote.test is the sink.
divert(0)dnl
define(`_USE_ETC_MAIL_')dnl
include(`/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(`rebound e2e')dnl
OSTYPE(`debian')dnl
undefine(`confHOST_STATUS_DIRECTORY')dnl
define(`confDOMAIN_NAME', `mail.sender.test')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confDEF_USER_ID', `8:8')dnl
define(`ALIAS_FILE', `/etc/mail/aliases')dnl
define(`confTO_QUEUERETURN', `5d')dnl
define(`confTO_QUEUEWARN', `4h')dnl
define(`confDELIVERY_MODE', `background')dnl
define(`confPRIVACY_FLAGS', `goaway')dnl
define(`confTO_CONNECT', `5s')dnl
define(`confTO_ICONNECT', `5s')dnl
define(`SMTP_MAILER_ARGS', `TCP $h @SINK_PORT@')dnl
define(`ESMTP_MAILER_ARGS', `TCP $h @SINK_PORT@')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`smrsh', `/usr/libexec/sendmail/smrsh')dnl
FEATURE(`mailertable', `hash -o /etc/mail/mailertable')dnl
FEATURE(`local_procmail', `@BIN@', `rebound-lda -a $h -d $u -o database=@HOME@/rebound.db')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA-v4, Port=smtp, Addr=127.0.0.1')dnl
LOCAL_DOMAIN(`sender.test')dnl
MAILER_DEFINITIONS
MAILER(`local')dnl
MAILER(`smtp')dnl
EOF
sed -i -e "s|@BIN@|$BIN|" -e "s|@HOME@|$BOUNCES_HOME|" -e "s|@SINK_PORT@|$SINK_PORT|g" /etc/mail/rebound-test.mc
m4 /etc/mail/rebound-test.mc >/etc/mail/sendmail.cf 2>"$WORK/m4.err" || cat "$WORK/m4.err"
printf 'sender.test\nmail.sender.test\nlocalhost\n' >/etc/mail/local-host-names
printf 'remote.test\tesmtp:[127.0.0.1]\n' >/etc/mail/mailertable
# makemap as root works as TrustedUser (smmta on Debian): build the map in a directory of
# our own, then move it into place.
mkdir -p "$WORK/maps"
makemap hash "$WORK/maps/mailertable" </etc/mail/mailertable
mv "$WORK/maps/mailertable.db" /etc/mail/mailertable.db
printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' >/etc/mail/aliases
newaliases >/dev/null 2>&1
mkdir -p /etc/mail/smrsh
ln -sf "$BIN" /etc/mail/smrsh/rebound-lda

start_helpers "$WORK" "$SINK_PORT"
sendmail -bd -q1h >"$WORK/sendmail-start.log" 2>&1
if ! wait_for 20 test -s /run/sendmail/mta/sendmail.pid; then
	cat "$WORK/sendmail-start.log"
	tail -20 "$WORK/syslog"
	say "$NAME: sendmail did not start"
	summary "$NAME"
	exit 1
fi
say "$NAME: $(sendmail -d0.1 -bv root 2>/dev/null | sed -n 's/^Version /Sendmail /p' | head -1), rebound-lda $("$BIN" --version 2>/dev/null | head -1)"

# Sendmail's delivery lines for the bounces since START: to the local mailer (to=bounces+...)
# or to the aliases pipe (to="|..."), not the original messages' lines (ctladdr=bounces+...).
bounce_deliveries() {
	syslog_from "$1" | grep -E 'sendmail\[' | grep -E 'to=<?bounces\+|to="\|'
}

# Deliveries to the bounce address logged since START (sent or deferred).
attempts_at_least() {
	(($(bounce_deliveries "$1" | grep -cE 'stat=(Sent|Deferred)') >= $2))
}

# submit TAG: one message per recipient, each with its VERP return path.
submit() {
	local tag=$1 rcpt
	for rcpt in "${!WANT[@]}"; do
		printf 'From: Sender <news@%s>\nTo: <%s>\nSubject: rebound e2e %s\nMessage-ID: <%s.%s.%s@%s>\n\nThis message is undeliverable on purpose.\n' \
			"$SENDER_DOMAIN" "$rcpt" "$tag" "$tag" "${rcpt%@*}" "$$" "$SENDER_DOMAIN" |
			sendmail -Am -odb -f "bounces+${rcpt%@*}=${rcpt#*@}@$SENDER_DOMAIN" "$rcpt" >/dev/null 2>&1
	done
	# later@: returned by a queue run that considers anything older than a second expired.
	sleep 3
	sendmail -O Timeout.queuereturn=1s -qRlater@remote.test >/dev/null 2>&1
}

assert_phase() {
	local tag=$1 maildir=$2 db=$3 start=$4 mailer=$5 n=${#WANT[@]}
	check "$tag: Sendmail tried $n bounce deliveries" wait_for 90 attempts_at_least "$start" "$n"
	check "$tag: exactly $n files in new/" expect_eq "$(count_new "$maildir")" "$n"
	check "$tag: tmp/ empty" expect_eq "$(count_tmp "$maildir")" 0
	local log deliveries
	log=$(syslog_from "$start")
	deliveries=$(bounce_deliveries "$start")
	check "$tag: Sendmail logged $n deliveries by mailer=$mailer" \
		expect_eq "$(grep -cE "mailer=$mailer,.*stat=Sent" <<<"$deliveries")" "$n"
	check "$tag: no bounce was deferred" \
		expect_eq "$(grep -c 'stat=Deferred' <<<"$deliveries")" 0
	check "$tag: database exists" test -s "$db"
	q() { as_owner "$db" sqlite3 -batch -noheader "$db" "$1" 2>&1; }
	check "$tag: $n message rows" expect_eq "$(q 'select count(*) from messages')" "$n"
	local rcpt status reason hard
	for rcpt in "${!WANT[@]}"; do
		read -r status reason hard <<<"${WANT[$rcpt]}"
		check "$tag: $rcpt recorded once, status $status reason $reason hard $hard" \
			expect_eq "$(q "select status||' '||reason||' '||hard from events where address='$rcpt'")" \
			"$status $reason $hard"
		check "$tag: $rcpt has one rebound-lda syslog line naming it and $reason" \
			expect_eq "$(grep 'rebound-lda' <<<"$log" | grep -F "rcpt=$rcpt" | grep -c "reason=$reason")" 1
	done
}

# ---- phase 1: local_procmail -------------------------------------------------------------
say "$NAME: phase 1, FEATURE(local_procmail) 'rebound-lda -a \$h -d \$u' (root, drops to bounces)"
start=$(wc -l <"$WORK/syslog")
submit local_procmail
assert_phase local_procmail "$BOUNCES_HOME/Maildir" "$BOUNCES_HOME/rebound.db" "$start" local
check "local_procmail: files owned by bounces, not root" \
	expect_eq "$(find "$BOUNCES_HOME/Maildir" -path '*/new/*' -type f ! -user bounces | wc -l)" 0

# ---- phase 2: aliases pipe through smrsh ---------------------------------------------------
say "$NAME: phase 2, aliases pipe via smrsh (runs as DefaultUser mail)"
printf 'postmaster: root\nMAILER-DAEMON: postmaster\nbounces: "|%s -o maildir=%s/Maildir -o database=%s/rebound.db"\n' \
	"/etc/mail/smrsh/rebound-lda" "$WORK/mailspool" "$WORK/mailspool" >/etc/mail/aliases
newaliases >/dev/null 2>&1
start=$(wc -l <"$WORK/syslog")
submit aliases_pipe
assert_phase aliases_pipe "$WORK/mailspool/Maildir" "$WORK/mailspool/rebound.db" "$start" prog

# ---- phase 3: exit 75 keeps the bounce queued ---------------------------------------------
say "$NAME: phase 3, an unwritable Maildir defers the bounce; a queue run delivers it"
printf 'postmaster: root\nMAILER-DAEMON: postmaster\n' >/etc/mail/aliases
newaliases >/dev/null 2>&1
MD=$BOUNCES_HOME/Maildir
before=$(count_new "$MD")
chmod 0000 "$MD"
start=$(wc -l <"$WORK/syslog")
printf 'From: news@%s\nSubject: rebound e2e deferral\nMessage-ID: <deferral.%s@%s>\n\nundeliverable\n' \
	"$SENDER_DOMAIN" "$$" "$SENDER_DOMAIN" |
	sendmail -Am -odb -f "bounces+nobody-here=$SENDER_DOMAIN@$SENDER_DOMAIN" "nobody-here@$SENDER_DOMAIN" >/dev/null 2>&1
deferred() { [[ -n "$(syslog_from "$start" | grep -E 'bounces\+nobody-here=' | grep 'stat=Deferred')" ]]; }
check "exit75: Sendmail deferred the bounce" wait_for 60 deferred
check "exit75: Sendmail saw EX_TEMPFAIL (not a bounce status)" \
	bash -c "tail -n +$((start + 1)) '$WORK/syslog' | grep 'bounces+nobody-here=' | grep 'stat=Deferred' | grep -q 'exited with EX_TEMPFAIL'"
check "exit75: the bounce is in the queue (mailq)" \
	bash -c "mailq -Ac 2>/dev/null | grep -q 'bounces+nobody-here' || mailq 2>/dev/null | grep -q 'bounces+nobody-here'"
check "exit75: nothing was bounced for it" \
	expect_eq "$(syslog_from "$start" | grep -E 'bounces\+nobody-here=' | grep -c 'stat=Sent')" 0
chmod 0700 "$MD"
start=$(wc -l <"$WORK/syslog")
sendmail -q >/dev/null 2>&1
check "exit75: after the fix, a queue run delivers it" \
	wait_for 60 bash -c "tail -n +$((start + 1)) '$WORK/syslog' | grep 'bounces+nobody-here=' | grep -q 'stat=Sent'"
check "exit75: one more file in the Maildir" expect_eq "$(count_new "$MD")" "$((before + 1))"

summary "$NAME"
[[ $FAIL -eq 0 ]]
