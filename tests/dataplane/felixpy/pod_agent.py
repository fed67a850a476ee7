"""A test pod's process: small TCP/UDP servers plus a probe command loop on stdin.

Run inside a pod namespace: `python pod_agent.py --tcp 8080,9050 --udp 5353`.
Servers: TCP accepts and answers "ok"; UDP echoes and counts datagrams per port.
Commands (one per line, one answer line each):
  tcp <ip> <port> <timeout>      -> 1 if a connection was made and "ok" read, else 0
  udp <ip> <port> <timeout>      -> 1 if the echo came back, else 0
  icmp <ip> <timeout>            -> 1 if an echo reply came back, else 0
  flood <ip> <port> <interval> <seconds> -> sends UDP datagrams at that interval, answers the count sent
  count <port>                   -> datagrams received on our UDP server port so far
  reset <port>                   -> sets that count to 0
  lastpeer <port>                -> source address of the last TCP connection accepted on that port
"""
from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import threading
import time

counts: dict[int, int] = {}
last_peer: dict[int, str] = {}


def tcp_server(port: int) -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(128)
    while True:
        conn, addr = srv.accept()
        last_peer[port] = addr[0]
        try:
            conn.sendall(b"ok\n")
        except OSError:
            pass
        conn.close()


def udp_server(port: int) -> None:
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("0.0.0.0", port))
    counts[port] = 0
    while True:
        data, addr = srv.recvfrom(2048)
        counts[port] += 1
        if not data.startswith(b"flood"):
            srv.sendto(data, addr)


def probe_tcp(ip: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=timeout) as s:
            s.settimeout(timeout)
            return s.recv(3) == b"ok\n"
    except OSError:
        return False


def probe_udp(ip: str, port: int, timeout: float) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        token = os.urandom(8).hex().encode()
        try:
            s.sendto(token, (ip, port))
            while True:
                data, _ = s.recvfrom(2048)
                if data == token:
                    return True
        except OSError:
            return False


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def probe_icmp(ip: str, timeout: float) -> bool:
    ident = int.from_bytes(os.urandom(2), "big")   # a new conntrack flow per probe
    seq = int(time.monotonic() * 1000) & 0xFFFF
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    payload = b"felixpy-probe"
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
        s.settimeout(timeout)
        s.sendto(packet, (ip, 0))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                data, addr = s.recvfrom(2048)
                ihl = (data[0] & 0x0F) * 4
                typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
                if addr[0] == ip and typ == 0 and rid == ident and rseq == seq:
                    return True
        except OSError:
            return False
    return False


def flood(ip: str, port: int, interval: float, seconds: float) -> int:
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        end = time.monotonic() + seconds
        nxt = time.monotonic()
        while time.monotonic() < end:
            try:
                s.sendto(b"flood %d" % sent, (ip, port))
            except OSError:
                pass
            sent += 1
            nxt += interval
            time.sleep(max(0.0, nxt - time.monotonic()))
    return sent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tcp", default="")
    ap.add_argument("--udp", default="")
    args = ap.parse_args()
    for p in filter(None, args.tcp.split(",")):
        threading.Thread(target=tcp_server, args=(int(p),), daemon=True).start()
    for p in filter(None, args.udp.split(",")):
        threading.Thread(target=udp_server, args=(int(p),), daemon=True).start()
    time.sleep(0.1)
    print("ready", flush=True)
    for line in sys.stdin:
        cmd, *a = line.split()
        if cmd == "tcp":
            out = int(probe_tcp(a[0], int(a[1]), float(a[2])))
        elif cmd == "udp":
            out = int(probe_udp(a[0], int(a[1]), float(a[2])))
        elif cmd == "icmp":
            out = int(probe_icmp(a[0], float(a[1])))
        elif cmd == "flood":
            out = flood(a[0], int(a[1]), float(a[2]), float(a[3]))
        elif cmd == "count":
            out = counts.get(int(a[0]), -1)
        elif cmd == "lastpeer":
            out = last_peer.get(int(a[0]), "-")
        elif cmd == "reset":
            counts[int(a[0])] = 0
            out = 0
        else:
            out = "error"
        print(out, flush=True)


if __name__ == "__main__":
    main()
