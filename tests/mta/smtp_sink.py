#!/usr/bin/env python3
"""Loopback SMTP sink for the MTA end-to-end tests: the "remote" receiving host.

It answers each recipient by its local part, the way real receivers refuse mail, so that
the MTA under test writes its own DSN for each case:

    unknown@  550 5.1.1 at RCPT   (user unknown: hard)
    full@     552 5.2.2 at RCPT   (mailbox full: soft)
    spam@     550 5.7.1 at end of DATA (content judged spam: sender-side, never suppresses)
    later@    451 4.3.0 at RCPT   (temporary: expires in the sender's queue)
    anything else: 250, message discarded

Listens on 127.0.0.1 only. Every transaction is appended to the log file given as second
argument (one line per command), so the test can see what the MTA really sent.
Usage: smtp_sink.py PORT LOGFILE
"""

import asyncio
import sys

RCPT_REPLIES = {
    "unknown": "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table",
    "full": "552 5.2.2 <{rcpt}>: Mailbox full, quota exceeded",
    "later": "451 4.3.0 <{rcpt}>: Service temporarily unavailable, try again later",
}
DATA_REJECT = {
    "spam": "550 5.7.1 Message rejected as spam by content filter",
}


def local_part(addr):
    addr = addr.strip().strip("<>")
    return addr.split("@", 1)[0].lower()


async def session(reader, writer, log):
    def send(line):
        writer.write((line + "\r\n").encode())

    send("220 sink.remote.test ESMTP loopback sink")
    rcpts = []
    while True:
        raw = await reader.readline()
        if not raw:
            break
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        log.write("C: " + line + "\n")
        verb = line[:4].upper()
        if verb in ("EHLO", "HELO"):
            send("250-sink.remote.test")
            send("250-8BITMIME")
            send("250-ENHANCEDSTATUSCODES")
            send("250 SMTPUTF8")
        elif verb == "MAIL":
            rcpts = []
            send("250 2.1.0 Ok")
        elif verb == "RCPT":
            rcpt = line.split(":", 1)[1].split()[0].strip("<>") if ":" in line else ""
            reply = RCPT_REPLIES.get(local_part(rcpt))
            if reply:
                send(reply.format(rcpt=rcpt))
            else:
                rcpts.append(rcpt)
                send("250 2.1.5 Ok")
        elif verb == "DATA":
            if not rcpts:
                send("554 5.5.1 No valid recipients")
                continue
            send("354 End data with <CR><LF>.<CR><LF>")
            while True:
                data = await reader.readline()
                if not data or data in (b".\r\n", b".\n"):
                    break
            refusal = next((DATA_REJECT[local_part(r)] for r in rcpts if local_part(r) in DATA_REJECT), None)
            send(refusal or "250 2.0.0 Ok: queued")
            rcpts = []
        elif verb == "RSET":
            rcpts = []
            send("250 2.0.0 Ok")
        elif verb == "NOOP":
            send("250 2.0.0 Ok")
        elif verb == "QUIT":
            send("221 2.0.0 Bye")
            await writer.drain()
            break
        else:
            send("502 5.5.2 Command not recognized")
        log.flush()
        await writer.drain()
    writer.close()


async def guarded(reader, writer, log):
    # An MTA may drop the connection at any point (a reset after QUIT is common).
    try:
        await session(reader, writer, log)
    except (ConnectionError, asyncio.IncompleteReadError):
        writer.close()


async def main():
    port = int(sys.argv[1])
    log = open(sys.argv[2], "a", buffering=1)
    server = await asyncio.start_server(lambda r, w: guarded(r, w, log), "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
