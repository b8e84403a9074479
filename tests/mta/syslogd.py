#!/usr/bin/env python3
"""Minimal syslog receiver for the MTA end-to-end tests.

Binds a Unix datagram socket (the test's private /dev/log) and appends every record to a
file, one line each, with the priority decoded (`mail.info`), so the test can check the
lines Postfix, Sendmail and rebound-lda really sent to syslog.
Usage: syslogd.py SOCKET OUTFILE
"""

import os
import socket
import sys

FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
              "cron", "authpriv", "ftp"]
SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]


def main():
    path, out = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(out, "a", buffering=1) as log:
        while True:
            data = sock.recv(65536).decode("utf-8", "replace").rstrip("\n\0")
            prio = ""
            if data.startswith("<") and ">" in data[:5]:
                num = int(data[1:data.index(">")])
                fac, sev = num >> 3, num & 7
                fac_name = FACILITIES[fac] if fac < len(FACILITIES) else "local%d" % (fac - 16)
                prio = "%s.%s " % (fac_name, SEVERITIES[sev])
                data = data[data.index(">") + 1:]
            log.write(prio + data + "\n")


if __name__ == "__main__":
    main()
