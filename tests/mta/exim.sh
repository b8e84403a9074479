#!/usr/bin/env bash
# End-to-end test with a real Exim (Debian's `exim4-daemon-light`): Exim writes its own
# bounces (RFC 3464 multipart/report since 4.8x, with the human-readable "The following
# address(es) failed" list) and delivers them through a pipe transport to rebound-lda, which
# must file and record each one.
#
# Six messages leave sender.test, each with its recipient's VERP return path
# (`-f bounces+<local>=<domain>@sender.test`), to recipients that fail the ways Exim reports
# itself: a local part no router accepts ("Unrouteable address"), a domain the DNS stub
# answers NXDOMAIN for, and the loopback sink's 550 5.1.1 / 552 5.2.2 at RCPT, 550 5.7.1
# after DATA, and 451 4.3.0 (returned once the retry rule's 5 s limit has passed: "retry
# timeout exceeded"). The bounces reach `bounces` through the pipe transport, which runs
# rebound-lda as the user bounces with Exim's environment (RECIPIENT, SENDER, as Postfix).
# Then: exit 75 from an unwritable Maildir makes Exim defer the bounce (pipe transport
# temp_errors), and a queue run delivers it once fixed.
#
# Runs as root in a private mount + network namespace (see lib.sh), with its own spool and
# configuration (`exim4 -C`, listed in /etc/exim4/trusted_configs as Debian's build wants).
# Installing exim4-daemon-light removes Postfix or Sendmail: run it after them.
# Usage: tests/mta/exim.sh     (REBOUND_LDA=path, KEEP=1 as for postfix.sh)

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NAME=mta-exim

# shellcheck source=tests/mta/lib.sh
. "$HERE/lib.sh"
enter_namespace /run "exim4-daemon-light sqlite3 python3" "exim4 sqlite3 python3" "/etc/exim4" -- "$0" "$@"

# ---- inside the namespace ---------------------------------------------------------------

SINK_PORT=2525
SENDER_DOMAIN=sender.test
BIN=$WORK/bin/rebound-lda
CONF=$WORK/exim.conf
SPOOL=$WORK/spool
declare -A WANT=(
	[nosuchuser@sender.test]="hostunknown 1"
	[someone@nowhere.test]="hostunknown 1"
	[unknown@remote.test]="userunknown 1"
	[full@remote.test]="mailboxfull 0"
	[spam@remote.test]="spamdetected 0"
	[later@remote.test]="expired 0"
)
# The Status each bounce carries: Exim writes the remote's own code where it has one.
declare -A STATUS=(
	[unknown@remote.test]="5.1.1"
	[full@remote.test]="5.2.2"
	[spam@remote.test]="5.7.1"
)

trap stop_helpers EXIT

private_world "$WORK"
mkdir -p "$WORK/bin" "$SPOOL"
# Exim runs as its own user (Debian-exim) once it has read its configuration.
chown Debian-exim:Debian-exim "$SPOOL"
install -m 0755 "$REBOUND_LDA_SRC" "$BIN"

ensure_user bounces /home/bounces
scratch_home bounces
BOUNCES_HOME=$(user_home bounces)
MD=$BOUNCES_HOME/Maildir
DB=$BOUNCES_HOME/rebound.db

# Debian builds Exim with TRUSTED_CONFIG_LIST: a -C file run as root must be listed there.
mkdir -p "$WORK/etc-exim4"
cp -a /etc/exim4/. "$WORK/etc-exim4/" 2>/dev/null
bind_dir "$WORK/etc-exim4" /etc/exim4
printf '%s\n' "$CONF" >/etc/exim4/trusted_configs

cat >"$CONF" <<EOF
# rebound end-to-end test: loopback only, sender.test is local, remote.test is the sink.
primary_hostname = mail.sender.test
qualify_domain = sender.test
spool_directory = $SPOOL
log_file_path = $SPOOL/log/%slog
domainlist local_domains = sender.test
keep_environment =
host_lookup =
rfc1413_hosts =
received_header_text = Received: by \$primary_hostname with local (Exim \$version_number)

begin routers
bounces:
  driver = accept
  domains = +local_domains
  local_parts = bounces
  local_part_suffix = +*
  local_part_suffix_optional
  transport = rebound_pipe
sink:
  driver = manualroute
  domains = remote.test
  route_list = * 127.0.0.1
  self = send
  transport = remote_smtp
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  no_more

begin transports
rebound_pipe:
  driver = pipe
  command = $BIN -o maildir=$MD -o database=$DB
  user = bounces
  group = bounces
  return_fail_output
  log_output
  temp_errors = 75
remote_smtp:
  driver = smtp
  port = $SINK_PORT
  hosts_try_chunking =
  hosts_try_prdr =

begin retry
later@remote.test  *  F,5s,1s
*                  *  F,1h,15m
EOF

exim() { exim4 -C "$CONF" "$@"; }

start_helpers "$WORK" "$SINK_PORT"
say "$NAME: $(exim -bV 2>/dev/null | head -1), rebound-lda $("$BIN" --version 2>/dev/null | head -1)"
mainlog() { cat "$SPOOL/log/mainlog" 2>/dev/null; }

# Deliveries of bounces to the pipe since line START of the mainlog (=> lines name the
# VERP address the bounce went to).
delivered_bounces() { mainlog | tail -n +"$(($1 + 1))" | grep -cE '=> \|?.*bounces\+' || true; }
at_least() { (($(delivered_bounces "$1") >= $2)); }

start=$(mainlog | wc -l)
say "$NAME: submitting one message per recipient"
for rcpt in "${!WANT[@]}"; do
	printf 'From: Sender <news@%s>\nTo: <%s>\nSubject: rebound e2e\nMessage-ID: <e2e.%s.%s@%s>\n\nThis message is undeliverable on purpose.\n' \
		"$SENDER_DOMAIN" "$rcpt" "${rcpt%@*}" "$$" "$SENDER_DOMAIN" |
		exim -odi -f "bounces+${rcpt%@*}=${rcpt#*@}@$SENDER_DOMAIN" "$rcpt" >/dev/null 2>&1
done
# later@ is deferred until its retry rule's 5 s have passed; then a forced run bounces it.
sleep 7
exim -qff >/dev/null 2>&1
n=${#WANT[@]}
check "Exim delivered $n bounces through the pipe" wait_for 60 at_least "$start" "$n"
check "exactly $n files in new/" expect_eq "$(count_new "$MD")" "$n"
check "tmp/ empty" expect_eq "$(count_tmp "$MD")" 0
check "no delivery to the pipe was deferred" \
	expect_eq "$(mainlog | tail -n +"$((start + 1))" | grep -E '== .*bounces\+' | grep -c 'T=rebound_pipe')" 0
check "the bounces are Exim's own (X-Failed-Recipients)" \
	expect_eq "$(grep -l '^X-Failed-Recipients:' "$MD"/.*/new/* "$MD"/new/* 2>/dev/null | wc -l)" "$n"
q() { as_owner "$DB" sqlite3 -batch -noheader "$DB" "$1" 2>&1; }
check "$n message rows" expect_eq "$(q 'select count(*) from messages')" "$n"
for rcpt in "${!WANT[@]}"; do
	read -r reason hard <<<"${WANT[$rcpt]}"
	check "$rcpt recorded once, reason $reason hard $hard" \
		expect_eq "$(q "select reason||' '||hard from events where address='$rcpt'")" "$reason $hard"
	if [[ -n "${STATUS[$rcpt]:-}" ]]; then
		check "$rcpt status ${STATUS[$rcpt]}" \
			expect_eq "$(q "select status from events where address='$rcpt'")" "${STATUS[$rcpt]}"
	fi
	check "$rcpt: one rebound-lda syslog line naming it and $reason" \
		expect_eq "$(grep 'rebound-lda' "$WORK/syslog" | grep -F "rcpt=$rcpt" | grep -c "reason=$reason")" 1
done

say "$NAME: an unwritable Maildir defers the bounce; a queue run delivers it"
before=$(count_new "$MD")
chmod 0000 "$MD"
start=$(mainlog | wc -l)
printf 'From: news@%s\nSubject: rebound e2e deferral\nMessage-ID: <deferral.%s@%s>\n\nundeliverable\n' \
	"$SENDER_DOMAIN" "$$" "$SENDER_DOMAIN" |
	exim -odi -f "bounces+unknown=remote.test@$SENDER_DOMAIN" "unknown@remote.test" >/dev/null 2>&1
deferred() { mainlog | tail -n +"$((start + 1))" | grep -E '== .*bounces\+unknown=remote.test' | grep -q 'T=rebound_pipe'; }
check "exit75: Exim deferred the bounce (temp_errors)" wait_for 30 deferred
check "exit75: the bounce is in the queue" bash -c "exim4 -C '$CONF' -bp | grep -q '<>'"
check "exit75: nothing was returned for it" \
	expect_eq "$(mainlog | tail -n +"$((start + 1))" | grep -cE '\*\* .*bounces\+unknown=remote.test')" 0
chmod 0700 "$MD"
exim -qff >/dev/null 2>&1
check "exit75: after the fix, a queue run delivers it" \
	wait_for 30 bash -c "tail -n +$((start + 1)) '$SPOOL/log/mainlog' | grep -E '=> .*bounces\+unknown=remote.test' | grep -q 'T=rebound_pipe'"
check "exit75: one more file in the Maildir" expect_eq "$(count_new "$MD")" "$((before + 1))"

summary "$NAME"
[[ $FAIL -eq 0 ]]
