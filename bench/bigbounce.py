#!/usr/bin/env python3
"""Write a Postfix-style RFC 3464 bounce whose returned message carries SIZE megabytes of
base64 attachment: the 15 MB and 100 MB bounces that bench/parse.sh and bench/memory.sh feed
to rebound. The report parts come first, as every MTA writes them; the bulk is the returned
message. Deterministic, streamed in chunks, so a 100 MB file costs no 100 MB of memory.

Usage: bench/bigbounce.py SIZE_MB OUTFILE
"""
import base64
import random
import sys


def main() -> None:
    size = int(float(sys.argv[1]) * 1024 * 1024)
    out = open(sys.argv[2], "wb")
    w = out.write
    w(
        b"Return-Path: <>\n"
        b"Delivered-To: bounces+joe=example.com@sender.example.net\n"
        b"Received: by mx.sender.example.net (Postfix) id 4F1A2B3C4D; Sat, 28 Nov 2026 03:00:00 +0000 (UTC)\n"
        b"Date: Sat, 28 Nov 2026 03:00:00 +0000 (UTC)\n"
        b"From: MAILER-DAEMON@mx.sender.example.net (Mail Delivery System)\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"To: bounces+joe=example.com@sender.example.net\n"
        b"Auto-Submitted: auto-replied\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="BIG.1795836000/mx"\n'
        b"Message-Id: <20261128030000.4F1A2B3C4D@mx.sender.example.net>\n"
        b"\n"
        b"This is a MIME-encapsulated message.\n"
        b"\n"
        b"--BIG.1795836000/mx\n"
        b"Content-Description: Notification\n"
        b"Content-Type: text/plain; charset=us-ascii\n"
        b"\n"
        b"This is the mail system at host mx.sender.example.net.\n"
        b"\n"
        b"I'm sorry to have to inform you that your message could not\n"
        b"be delivered to one or more recipients.\n"
        b"\n"
        b"<joe@example.com>: host mx.example.com[192.0.2.25] said: 550 5.1.1 <joe@example.com>:\n"
        b"    Recipient address rejected: User unknown in local recipient table (in reply\n"
        b"    to RCPT TO command)\n"
        b"\n"
        b"--BIG.1795836000/mx\n"
        b"Content-Description: Delivery report\n"
        b"Content-Type: message/delivery-status\n"
        b"\n"
        b"Reporting-MTA: dns; mx.sender.example.net\n"
        b"X-Postfix-Queue-ID: 4F1A2B3C4D\n"
        b"Arrival-Date: Sat, 28 Nov 2026 02:59:58 +0000 (UTC)\n"
        b"\n"
        b"Final-Recipient: rfc822; joe@example.com\n"
        b"Original-Recipient: rfc822;joe@example.com\n"
        b"Action: failed\n"
        b"Status: 5.1.1\n"
        b"Remote-MTA: dns; mx.example.com\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <joe@example.com>: Recipient address rejected:\n"
        b"    User unknown in local recipient table\n"
        b"\n"
        b"--BIG.1795836000/mx\n"
        b"Content-Description: Undelivered Message\n"
        b"Content-Type: message/rfc822\n"
        b"\n"
        b"Return-Path: <bounces+joe=example.com@sender.example.net>\n"
        b"From: Newsletter <news@sender.example.net>\n"
        b"To: joe@example.com\n"
        b"Subject: The big attachment\n"
        b"Message-ID: <big-original-1@sender.example.net>\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="inner"\n'
        b"\n"
        b"--inner\n"
        b"Content-Type: text/plain\n"
        b"\n"
        b"See the attachment.\n"
        b"--inner\n"
        b"Content-Type: application/octet-stream; name=big.bin\n"
        b"Content-Transfer-Encoding: base64\n"
        b"\n"
    )
    rng = random.Random(1795836000)
    raw_chunk = 57 * 1024  # 57 raw bytes = one 76-char base64 line
    written = 0
    while written < size:
        data = rng.randbytes(raw_chunk)
        enc = base64.b64encode(data)
        lines = b"\n".join(enc[i : i + 76] for i in range(0, len(enc), 76)) + b"\n"
        w(lines)
        written += len(lines)
    w(b"--inner--\n\n--BIG.1795836000/mx--\n")
    out.close()


if __name__ == "__main__":
    main()
