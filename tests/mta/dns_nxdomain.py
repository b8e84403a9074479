#!/usr/bin/env python3
"""Tiny DNS stub for the MTA end-to-end tests: answers every query NXDOMAIN.

The tests run the MTA in a private mount and network namespace whose /etc/resolv.conf
names 127.0.0.1, so a recipient domain that does not exist gets a real "Host or domain name
not found" (Postfix 5.4.4, Sendmail 5.1.2) instead of the endless deferral an absent resolver
gives. Domains the test routes elsewhere never reach it (transport/mailertable entries in
brackets skip DNS). UDP and TCP on 127.0.0.1:53.
"""

import socket
import struct
import threading


def nxdomain(query):
    if len(query) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", query[:6])
    # Copy the question section as is (labels up to the terminating zero, then QTYPE/QCLASS).
    pos = 12
    for _ in range(qdcount):
        while pos < len(query) and query[pos] != 0:
            pos += query[pos] + 1
        pos += 5
    question = query[12:pos]
    rd = flags & 0x0100
    opcode = flags & 0x7800
    reply_flags = 0x8000 | opcode | rd | 0x0080 | 3  # QR, RD copied, RA, RCODE=NXDOMAIN
    return struct.pack("!HHHHHH", qid, reply_flags, qdcount, 0, 0, 0) + question


def serve_udp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 53))
    while True:
        query, peer = sock.recvfrom(4096)
        reply = nxdomain(query)
        if reply:
            sock.sendto(reply, peer)


def serve_tcp():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 53))
    sock.listen(8)
    while True:
        conn, _ = sock.accept()
        with conn:
            head = conn.recv(2)
            if len(head) < 2:
                continue
            (length,) = struct.unpack("!H", head)
            query = b""
            while len(query) < length:
                chunk = conn.recv(length - len(query))
                if not chunk:
                    break
                query += chunk
            reply = nxdomain(query)
            if reply:
                conn.sendall(struct.pack("!H", len(reply)) + reply)


if __name__ == "__main__":
    threading.Thread(target=serve_tcp, daemon=True).start()
    serve_udp()
