#!/usr/bin/env bash
# End-to-end test with a real Postfix (Debian's `postfix` package): Postfix writes its own
# bounces and delivers them to rebound-lda, which must file and record each one.
#
# A sender domain, sender.test, sends one message with a VERP return path (`sendmail -XV -f
# bounces@sender.test`) to six recipients that fail in six ways Postfix reports itself:
#
#   nosuchuser@sender.test  local(8): unknown user          5.1.1 userunknown  hard
#   someone@nowhere.test    NXDOMAIN from the DNS stub       5.4.4 hostunknown  hard
#   unknown@remote.test     loopback sink: 550 5.1.1         5.1.1 userunknown  hard
#   full@remote.test        loopback sink: 552 5.2.2         5.2.2 mailboxfull  soft
#   spam@remote.test        loopback sink: 550 5.7.1 at DATA 5.7.1 spamdetected soft
#   later@remote.test       loopback sink: 451 4.3.0, queue lifetime 0: expired, soft
#
# The six bounces come back to bounces+<rcpt>@sender.test, whose local part `bounces` is
# delivered by rebound-lda three ways in turn: `mailbox_command`, an alias pipe in an alias
# file owned by the service user `rebound`, and a pipe(8) transport in master.cf. Each way
# must give one file per bounce in the Maildir, one database row per recipient with the
# right reason and hard flag, one syslog line each, and Postfix's "status=sent".
# Last, the exit-code contract: a Maildir rebound-lda cannot write must leave the bounce
# deferred in Postfix's queue (never bounced), and `postqueue -f` delivers it once fixed.
#
# Runs as root, inside a private mount + network namespace (see lib.sh): loopback only,
# the system's Postfix configuration and queue are not touched.
# Usage: tests/mta/postfix.sh            (REBOUND_LDA=path overrides the binary)
#        KEEP=1 tests/mta/postfix.sh     (keep the scratch directory for inspection)

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NAME=mta-postfix

# shellcheck source=tests/mta/lib.sh
. "$HERE/lib.sh"
enter_namespace /tmp "postfix sqlite3 python3" "postfix postconf postqueue postalias sqlite3 python3" \
	"/var/lib/rebound /var/lib/postfix /var/spool/postfix" -- "$0" "$@"

# ---- inside the namespace ---------------------------------------------------------------

SINK_PORT=2525
SENDER_DOMAIN=sender.test
BIN=$WORK/bin/rebound-lda
PF=$WORK/etc-postfix
# recipient -> "status reason hard"
declare -A WANT=(
	[nosuchuser@sender.test]="5.1.1 userunknown 1"
	[someone@nowhere.test]="5.4.4 hostunknown 1"
	[unknown@remote.test]="5.1.1 userunknown 1"
	[full@remote.test]="5.2.2 mailboxfull 0"
	[spam@remote.test]="5.7.1 spamdetected 0"
	[later@remote.test]="4.3.0 expired 0"
)

cleanup() {
	postfix stop >/dev/null 2>&1
	# master(8) is gone once its pid file is; give it a moment, then make sure.
	local pid
	pid=$(head -1 /var/spool/postfix/pid/master.pid 2>/dev/null | tr -d ' ')
	sleep 1
	[[ -n "$pid" ]] && kill "$pid" 2>/dev/null
	stop_helpers
}
trap cleanup EXIT

private_world "$WORK"

# Binaries where every user can run them (the clone may sit in a private directory).
mkdir -p "$WORK/bin"
install -m 0755 "$REBOUND_LDA_SRC" "$BIN"

# Users: `bounces` (the bounce mailbox, phase mailbox_command) and `rebound` (the service
# user the RPM creates; owner of the alias file and the pipe(8) user). Their homes are
# scratch directories mounted over the passwd home.
ensure_user rebound /var/lib/rebound
ensure_user bounces /home/bounces
scratch_home rebound
scratch_home bounces
if [[ "$(user_home rebound)" != /var/lib/rebound ]]; then
	bind_dir "$WORK/home-rebound" /var/lib/rebound
fi
BOUNCES_HOME=$(user_home bounces)
REBOUND_HOME=/var/lib/rebound

# Postfix: own configuration, queue and data directories mounted over the standard ones.
mkdir -p "$PF" "$WORK/spool" "$WORK/data"
cp -a /etc/postfix/. "$PF/"
bind_dir "$PF" /etc/postfix
bind_dir "$WORK/spool" /var/spool/postfix
bind_dir "$WORK/data" /var/lib/postfix
chown postfix "$WORK/data"

cat >/etc/postfix/main.cf <<EOF
# rebound end-to-end test: loopback only, sender.test is local, remote.test is the sink.
compatibility_level = 3.6
myhostname = mail.$SENDER_DOMAIN
mydomain = $SENDER_DOMAIN
myorigin = \$mydomain
mydestination = \$myhostname, $SENDER_DOMAIN, localhost
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
biff = no
append_dot_mydomain = no
readme_directory = no
smtputf8_enable = no
alias_maps = hash:/etc/postfix/aliases
alias_database = hash:/etc/postfix/aliases
recipient_delimiter = +
transport_maps = hash:/etc/postfix/transport
mailbox_size_limit = 0
# The 4xx recipient expires at its first deferral (status=expired, a "failed" DSN with
# the 4.x.y code). Phase 4 raises it again: bounce_queue_lifetime is capped by it.
maximal_queue_lifetime = 0
bounce_queue_lifetime = 5d
minimal_backoff_time = 300s
maximal_backoff_time = 600s
queue_run_delay = 300s
bounce_size_limit = 1000000
smtp_connect_timeout = 5s
smtp_tls_security_level = none
smtpd_tls_security_level = none
rebound_destination_recipient_limit = 1
EOF
# No chroot (the queue directory is a scratch copy), no SMTP listener (mail is submitted
# with sendmail(1)), and the pipe(8) transport of phase 3.
postconf -F '*/*/chroot = n'
postconf -M# smtp/inet
postconf -M "rebound/unix=rebound unix - n n - - pipe flags=DORhq user=rebound argv=$BIN -f \${sender} -a \${original_recipient} -r \${recipient} -o maildir=$REBOUND_HOME/pipe/Maildir -o database=$REBOUND_HOME/pipe/rebound.db"
printf 'postmaster: root\n' >/etc/postfix/aliases
postalias /etc/postfix/aliases
printf 'remote.test\tsmtp:[127.0.0.1]:%s\n' "$SINK_PORT" >/etc/postfix/transport
postmap /etc/postfix/transport

postfix set-permissions >/dev/null 2>&1
postfix post-install create-missing >/dev/null 2>&1
start_helpers "$WORK" "$SINK_PORT"

if ! postfix start >"$WORK/postfix-start.log" 2>&1; then
	cat "$WORK/postfix-start.log"
	say "$NAME: postfix did not start"
	summary "$NAME"
	exit 1
fi
say "$NAME: $(postconf -h mail_version | sed 's/^/Postfix /'), rebound-lda $("$BIN" --version 2>/dev/null | head -1)"

# attempts_at_least START N: N delivery attempts to the bounce address logged since START.
attempts_at_least() {
	(($(syslog_from "$1" | grep -cE "to=<bounces\+.*status=(sent|deferred|bounced)") >= $2))
}

queue_empty() { [[ -z "$(postqueue -j 2>/dev/null)" ]]; }

# submit TAG: the test message, VERP return path, to all six failing recipients.
submit() {
	local tag=$1
	printf 'From: Sender <news@%s>\nTo: undisclosed-recipients:;\nSubject: rebound e2e %s\nMessage-ID: <%s.%s@%s>\n\nThis message is undeliverable on purpose (%s).\n' \
		"$SENDER_DOMAIN" "$tag" "$tag" "$$" "$SENDER_DOMAIN" "$tag" |
		sendmail -XV -f "bounces@$SENDER_DOMAIN" "${!WANT[@]}"
}

# assert_phase TAG MAILDIR DB SYSLOG_START RELAY_PATTERN: the checks of one delivery style.
assert_phase() {
	local tag=$1 maildir=$2 db=$3 start=$4 relay=$5 n=${#WANT[@]}
	# Every bounce has had its delivery attempt once Postfix logged a final or deferred
	# status for each; the checks below then say which.
	check "$tag: Postfix tried $n bounce deliveries" wait_for 90 attempts_at_least "$start" "$n"
	check "$tag: queue empty" wait_for 20 queue_empty
	check "$tag: exactly $n files in new/" expect_eq "$(count_new "$maildir")" "$n"
	check "$tag: tmp/ empty" expect_eq "$(count_tmp "$maildir")" 0
	check "$tag: files owned by the delivering user" \
		expect_eq "$(find "$maildir" -path '*/new/*' -type f ! -user "$(stat -c %U "$maildir")" | wc -l)" 0
	local log
	log=$(syslog_from "$start")
	check "$tag: Postfix logged $n deliveries via $relay" \
		expect_eq "$(grep -c "to=<bounces+.*@$SENDER_DOMAIN>.*relay=$relay.*status=sent" <<<"$log")" "$n"
	check "$tag: no bounce was bounced or deferred" \
		expect_eq "$(grep -E "to=<bounces\+.*status=(bounced|deferred)" <<<"$log" | wc -l)" 0
	check "$tag: database exists" test -s "$db"
	q() { as_owner "$db" sqlite3 -batch -noheader "$db" "$1" 2>&1; }
	check "$tag: $n message rows" expect_eq "$(q 'select count(*) from messages')" "$n"
	local rcpt status reason hard verp
	for rcpt in "${!WANT[@]}"; do
		read -r status reason hard <<<"${WANT[$rcpt]}"
		check "$tag: $rcpt recorded once, status $status reason $reason hard $hard" \
			expect_eq "$(q "select status||' '||reason||' '||hard from events where address='$rcpt'")" \
			"$status $reason $hard"
		verp="bounces+${rcpt%@*}=${rcpt#*@}@$SENDER_DOMAIN"
		check "$tag: $rcpt envelope recipient is its VERP address" \
			grep -qxF -e "$verp" -e "$rcpt" <<<"$(q "select m.envelope_to from messages m join events e on e.message = m.id where e.address='$rcpt'")"
		check "$tag: $rcpt has one rebound-lda syslog line naming it and $reason" \
			expect_eq "$(grep 'rebound-lda' <<<"$log" | grep -F "$rcpt" | grep -c "$reason")" 1
	done
}

# ---- phase 1: mailbox_command -----------------------------------------------------------
say "$NAME: phase 1, mailbox_command (runs as the recipient, bounces)"
postconf -e "mailbox_command = $BIN -o database=$BOUNCES_HOME/rebound.db"
postfix reload >/dev/null 2>&1
start=$(wc -l <"$WORK/syslog")
submit mailbox_command
assert_phase mailbox_command "$BOUNCES_HOME/Maildir" "$BOUNCES_HOME/rebound.db" "$start" local

# ---- phase 2: alias pipe ----------------------------------------------------------------
# The alias file is owned by `rebound`, so local(8) runs the pipe as rebound; rebound-lda
# then uses its defaults: ~rebound/Maildir and /var/lib/rebound/rebound.db.
say "$NAME: phase 2, alias pipe (runs as the alias file's owner, rebound)"
printf 'bounces: "|%s"\n' "$BIN" >/etc/postfix/rebound-aliases
postalias /etc/postfix/rebound-aliases
chown rebound:rebound /etc/postfix/rebound-aliases /etc/postfix/rebound-aliases.db
postconf -e "alias_maps = hash:/etc/postfix/aliases, hash:/etc/postfix/rebound-aliases"
postfix reload >/dev/null 2>&1
start=$(wc -l <"$WORK/syslog")
submit alias_pipe
assert_phase alias_pipe "$REBOUND_HOME/Maildir" "$REBOUND_HOME/rebound.db" "$start" local

# ---- phase 3: pipe(8) transport ---------------------------------------------------------
say "$NAME: phase 3, pipe(8) transport in master.cf (user=rebound)"
postconf -e "alias_maps = hash:/etc/postfix/aliases"
printf 'remote.test\tsmtp:[127.0.0.1]:%s\nbounces@%s\trebound:\n' "$SINK_PORT" "$SENDER_DOMAIN" >/etc/postfix/transport
postmap /etc/postfix/transport
install -d -o rebound -g rebound -m 0750 "$REBOUND_HOME/pipe"
postfix reload >/dev/null 2>&1
start=$(wc -l <"$WORK/syslog")
submit pipe_transport
assert_phase pipe_transport "$REBOUND_HOME/pipe/Maildir" "$REBOUND_HOME/pipe/rebound.db" "$start" rebound

# ---- phase 4: exit 75 keeps the bounce queued ---------------------------------------------
say "$NAME: phase 4, an unwritable Maildir defers the bounce; postqueue -f delivers it"
printf 'remote.test\tsmtp:[127.0.0.1]:%s\n' "$SINK_PORT" >/etc/postfix/transport
postmap /etc/postfix/transport
# Postfix caps bounce_queue_lifetime at maximal_queue_lifetime: restore a real lifetime
# so the deferred bounce stays queued.
postconf -e "maximal_queue_lifetime = 5d"
postfix reload >/dev/null 2>&1
MD=$BOUNCES_HOME/Maildir
before=$(count_new "$MD")
chmod 0000 "$MD"
start=$(wc -l <"$WORK/syslog")
printf 'From: news@%s\nSubject: rebound e2e deferral\nMessage-ID: <deferral.%s@%s>\n\nundeliverable\n' \
	"$SENDER_DOMAIN" "$$" "$SENDER_DOMAIN" |
	sendmail -XV -f "bounces@$SENDER_DOMAIN" "nobody-here@$SENDER_DOMAIN"
deferred_line() { syslog_from "$start" | grep -E "to=<bounces\+nobody-here=.*status=deferred"; }
check "exit75: Postfix deferred the bounce" wait_for 60 eval 'deferred_line >/dev/null'
line=$(deferred_line | head -1)
# Postfix takes the leading RFC 3463 code of the command's output as the status
# (dsn=4.x.y) and logs the rest; without one it would say "temporary failure".
check "exit75: the deferral carries rebound-lda's 4.x.y code" \
	grep -qE 'dsn=4\.[0-9]+\.[0-9]+, status=deferred \(' <<<"$line"
check "exit75: the bounce is in the queue (postqueue -p)" \
	bash -c "postqueue -p | grep -q 'bounces+nobody-here=$SENDER_DOMAIN@$SENDER_DOMAIN'"
check "exit75: nothing was bounced or sent for it" \
	expect_eq "$(syslog_from "$start" | grep -cE 'to=<bounces\+nobody-here=.*status=(bounced|sent)|postmaster.*status=')" 0
chmod 0700 "$MD"
start=$(wc -l <"$WORK/syslog")
postqueue -f
check "exit75: after the fix, postqueue -f delivers it" \
	wait_for 60 bash -c "tail -n +$((start + 1)) '$WORK/syslog' | grep -qE 'to=<bounces\+nobody-here=.*status=sent'"
check "exit75: queue empty" wait_for 30 queue_empty
check "exit75: one more file in the Maildir" expect_eq "$(count_new "$MD")" "$((before + 1))"
check "exit75: recorded" expect_eq \
	"$(as_owner "$BOUNCES_HOME/rebound.db" sqlite3 -batch -noheader "$BOUNCES_HOME/rebound.db" \
		"select reason||' '||hard from events where address='nobody-here@$SENDER_DOMAIN'" 2>&1)" \
	"userunknown 1"

cp "$WORK/syslog" "$WORK/syslog.final" 2>/dev/null
summary "$NAME"
[[ $FAIL -eq 0 ]]
