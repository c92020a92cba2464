#!/usr/bin/env python3
"""Send bursts of SIP OPTIONS over UDP as fast as possible and count the answers.

Usage: scripts/sip-burst.py HOST:PORT [BURST] [ROUNDS]

Each round sends BURST OPTIONS (distinct Call-IDs) from one socket without
waiting, then reads answers for 3 s. Prints answered/sent per round and in
total: what a burst of datagrams loses in the attendant's SIP socket buffer.
"""
import socket
import sys
import time

target = sys.argv[1]
host, port = target.rsplit(":", 1)
burst = int(sys.argv[2]) if len(sys.argv) > 2 else 200
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5

sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
sock.bind(("127.0.0.1", 0))
lport = sock.getsockname()[1]
total_sent = total_answered = 0
for r in range(rounds):
    for i in range(burst):
        msg = (
            f"OPTIONS sip:1000@{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK-burst-{r}-{i}\r\n"
            f"From: <sip:burst@127.0.0.1:{lport}>;tag=b{r}-{i}\r\n"
            f"To: <sip:1000@{host}>\r\nCall-ID: burst-{r}-{i}@127.0.0.1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(msg.encode(), (host, int(port)))
    answered = set()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, _ = sock.recvfrom(65535)
        except socket.timeout:
            break
        for line in data.decode(errors="replace").split("\r\n"):
            if line.lower().startswith("call-id:"):
                answered.add(line.split(":", 1)[1].strip())
    total_sent += burst
    total_answered += len(answered)
    print(f"round {r + 1}: {len(answered)}/{burst} answered")
lost = 100.0 * (total_sent - total_answered) / total_sent
print(f"total: {total_answered}/{total_sent} answered, {lost:.1f} % lost")
