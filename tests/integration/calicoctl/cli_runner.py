"""Running the real `calicoctl-py` process against a test etcd, with a result object in
the spirit of Calico's CalicoctlOutput (assert_ok, assert_error, yaml, table rows)."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import yaml

CALICOCTL = os.path.join(os.path.dirname(sys.executable), "calicoctl-py")


@dataclass
class Result:
    args: tuple
    code: int
    out: str
    err: str

    def assert_ok(self) -> "Result":
        assert self.code == 0, f"calicoctl-py {' '.join(self.args)} failed ({self.code}):\n{self.err}{self.out}"
        return self

    def assert_error(self, contains: str = "") -> "Result":
        assert self.code != 0, f"expected failure, got success:\n{self.out}"
        assert "Traceback" not in self.err, self.err
        assert contains in self.err, f"{contains!r} not in stderr:\n{self.err}"
        return self

    def yaml(self):
        return yaml.safe_load(self.out)

    def rows(self) -> list[list[str]]:
        return [line.split() for line in self.out.splitlines() if line.strip()]


def calicoctl(endpoint: str | None, *args: str, stdin: str | None = None,
              env: dict | None = None) -> Result:
    """Run calicoctl-py with ETCD_ENDPOINTS=endpoint (None: no datastore variables at all,
    e.g. to test --config files)."""
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("ETCD_", "CALICO_", "DATASTORE_"))}
    if endpoint is not None:
        environ.update({"ETCD_ENDPOINTS": endpoint, "DATASTORE_TYPE": "etcdv3"})
    environ.update(env or {})
    p = subprocess.run([CALICOCTL, *args], input=stdin, capture_output=True, text=True,
                       env=environ, timeout=60)
    return Result(args, p.returncode, p.stdout, p.stderr)


def etcd_snapshot(endpoint: str) -> dict[str, bytes]:
    """Every key and value under /calico/ (for byte-identical comparisons)."""
    import etcd3
    host, port = endpoint.split("://")[1].rsplit(":", 1)
    c = etcd3.client(host=host, port=int(port))
    try:
        return {m.key.decode(): v for v, m in c.get_prefix("/calico/")}
    finally:
        c.close()
