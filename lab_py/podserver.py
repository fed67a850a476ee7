"""The small server each lab pod runs: on every TCP port it accepts and answers "ok", on
every UDP port it echoes each datagram back. Runs until killed."""
from __future__ import annotations

import argparse
import socket
import threading


def _tcp(port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    while True:
        conn, _ = s.accept()
        try:
            conn.sendall(b"ok\n")
        except OSError:
            pass
        finally:
            conn.close()


def _udp(port: int) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    while True:
        data, addr = s.recvfrom(2048)
        s.sendto(data, addr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tcp", type=int, action="append", default=[])
    parser.add_argument("--udp", type=int, action="append", default=[])
    args = parser.parse_args()
    threads = [threading.Thread(target=_tcp, args=(p,), daemon=True) for p in args.tcp]
    threads += [threading.Thread(target=_udp, args=(p,), daemon=True) for p in args.udp]
    for t in threads:
        t.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
