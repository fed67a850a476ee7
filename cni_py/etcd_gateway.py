"""A small etcd v3 client over etcd's JSON gateway (`POST /v3/kv/...`), for the CNI plugins.

Why not the gRPC client (`etcd3`) the rest of the project uses through
`libcalico_py.datastore`: a CNI plugin is a fresh interpreter per pod, and importing grpc
plus the etcd protobuf stubs costs about 200 ms, two thirds of the ADD budget. etcd serves
the same KV API as JSON on its client port, so a bare-socket HTTP/1.1 client does the job
for a few milliseconds of import time.

`EtcdGateway` offers the raw-KV contract of `libcalico_py.datastore` (`kv.get`,
`kv.get_prefix`, `kv.put`, `kv.delete`, `kv.txn` with the same compare/op tuples, `KV`
records with `mod_revision`), so `libcalico_py.ipam.IPAM` runs on either. Endpoints are
tried in order; a connection failure moves on to the next one; when none answers the
error is `DatastoreUnavailable` naming all of them.
"""
from __future__ import annotations

import base64
import json
import socket
from typing import NamedTuple
from urllib.parse import urlsplit

from libcalico_py.errors import CalicoError, DatastoreUnavailable


class KV(NamedTuple):
    key: str
    value: bytes
    mod_revision: int
    create_revision: int


def _b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _range_end(prefix: str) -> str:
    b = bytearray(prefix.encode())
    while b:
        if b[-1] < 0xFF:
            b[-1] += 1
            return _b64(bytes(b))
        b.pop()
    return _b64(b"\0")


def _kv(d: dict) -> KV:
    return KV(base64.b64decode(d["key"]).decode(), base64.b64decode(d.get("value", "")),
              int(d.get("mod_revision", 0)), int(d.get("create_revision", 0)))


_TARGETS = {"mod": ("MOD", "mod_revision"), "version": ("VERSION", "version"),
            "create": ("CREATE", "create_revision"), "value": ("VALUE", "value")}


class EtcdGateway:
    """Raw KV access to etcd; also usable as `ds` (it is its own `.kv`)."""

    def __init__(self, endpoints: list[str], ca_cert_file: str | None = None,
                 cert_file: str | None = None, key_file: str | None = None,
                 timeout: float = 5.0):
        self.endpoints = [e.strip().rstrip("/") for e in endpoints if e.strip()]
        if not self.endpoints:
            raise CalicoError("no etcd endpoints configured")
        self.ca_cert_file, self.cert_file, self.key_file = ca_cert_file, cert_file, key_file
        self.timeout = timeout
        self._conn = None
        self._current = 0

    @property
    def kv(self) -> "EtcdGateway":
        return self

    def _connect(self, endpoint: str) -> "_Connection":
        parts = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        return _Connection(parts.scheme, parts.hostname or "127.0.0.1", parts.port or 2379,
                           self.timeout, self.ca_cert_file, self.cert_file, self.key_file)

    def _call(self, path: str, body: dict) -> dict:
        payload = json.dumps(body).encode()
        errors = []
        n = len(self.endpoints)
        for i in range(n):
            idx = (self._current + i) % n
            for attempt in range(2):  # a kept-alive connection may have been closed: retry once
                try:
                    if self._conn is None or self._current != idx:
                        self.close()
                        self._conn = self._connect(self.endpoints[idx])
                        self._current = idx
                    status, data = self._conn.post(path, payload)
                except (OSError, _ProtocolError) as e:
                    self.close()
                    if attempt == 1:
                        errors.append(f"{self.endpoints[idx]}: {getattr(e, 'strerror', None) or e}")
                        break
                    continue
                if status != 200:
                    msg = data.decode(errors="replace")
                    if status >= 500 and "leader" in msg:
                        errors.append(f"{self.endpoints[idx]}: {msg}")
                        break
                    raise CalicoError(f"etcd {path} failed ({status}): {msg}")
                return json.loads(data or b"{}")
        raise DatastoreUnavailable(self.endpoints, "; ".join(errors))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- the raw KV contract ------------------------------------------------------------

    def get(self, key: str) -> KV | None:
        r = self._call("/v3/kv/range", {"key": _b64(key)})
        kvs = r.get("kvs") or []
        return _kv(kvs[0]) if kvs else None

    def get_prefix(self, prefix: str) -> tuple[list[KV], int]:
        r = self._call("/v3/kv/range", {"key": _b64(prefix), "range_end": _range_end(prefix)})
        return [_kv(d) for d in r.get("kvs") or []], int(r["header"]["revision"])

    def put(self, key: str, value: bytes | str, lease_ttl: int | None = None) -> None:
        body = {"key": _b64(key), "value": _b64(value)}
        if lease_ttl:
            lease = self._call("/v3/lease/grant", {"TTL": str(int(lease_ttl))})
            body["lease"] = lease["ID"]
        self._call("/v3/kv/put", body)

    def delete(self, key: str) -> bool:
        r = self._call("/v3/kv/deleterange", {"key": _b64(key)})
        return int(r.get("deleted", 0)) > 0

    def txn(self, compare=(), success=(), failure=()) -> bool:
        body = {"compare": [self._compare(c) for c in compare],
                "success": [self._op(o) for o in success],
                "failure": [self._op(o) for o in failure]}
        return bool(self._call("/v3/kv/txn", body).get("succeeded", False))

    @staticmethod
    def _compare(c) -> dict:
        what, key, expected = c
        target, field = _TARGETS[what]
        value = _b64(expected) if what == "value" else str(int(expected))
        return {"key": _b64(key), "target": target, "result": "EQUAL", field: value}

    @staticmethod
    def _op(o) -> dict:
        if o[0] == "put":
            return {"request_put": {"key": _b64(o[1]), "value": _b64(o[2])}}
        if o[0] == "delete":
            return {"request_delete_range": {"key": _b64(o[1])}}
        if o[0] == "get":
            return {"request_range": {"key": _b64(o[1])}}
        raise ValueError(f"unknown txn operation {o[0]!r}")


class _ProtocolError(Exception):
    """The server's reply was not the HTTP/1.1 we expect (e.g. the connection dropped)."""


class _Connection:
    """One keep-alive HTTP/1.1 connection, just enough for etcd's gateway.

    Written on a bare socket because `http.client` drags in the `email` package and `ssl`
    (tens of milliseconds of imports per CNI call); TLS is imported only for https."""

    def __init__(self, scheme: str, host: str, port: int, timeout: float,
                 ca_cert_file: str | None, cert_file: str | None, key_file: str | None):
        self.host, self.port = host, port
        sock = socket.create_connection((host, port), timeout=timeout)
        if scheme == "https":
            import ssl
            ctx = ssl.create_default_context(cafile=ca_cert_file)
            if cert_file:
                ctx.load_cert_chain(cert_file, key_file)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        elif scheme != "http":
            sock.close()
            raise _ProtocolError(f"unsupported scheme {scheme!r}")
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
        self.sock.sendall(head.encode() + payload)
        status_line = self.rfile.readline(65537)
        if not status_line:
            raise _ProtocolError("connection closed by server")
        try:
            status = int(status_line.split()[1])
        except (IndexError, ValueError):
            raise _ProtocolError(f"bad status line {status_line[:80]!r}") from None
        headers = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline(65537)
            data = bytes(body)
        else:
            data = self.rfile.read(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, data

    def close(self) -> None:
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass
