"""A lab's persistent state: what was created, so that any later `calico-lab` call (and
`down`/`gc`) knows every namespace, process and directory to manage or remove.

Kept as JSON in /run/calico-lab/<lab>/state.json, written atomically under a lock.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from dataclasses import asdict, dataclass, field

LAB_ROOT = os.environ.get("CALICO_LAB_ROOT", "/run/calico-lab")
NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,7}$")
FABRIC_NET = "172.30.0"           # private to the lab's own fabric namespace
DEFAULT_POOL = "10.244.0.0/16"
ETCD_PORT = 2379


@dataclass
class Pod:
    namespace: str
    name: str
    node: str
    netns: str
    container_id: str
    ip: str
    labels: dict = field(default_factory=dict)
    ports: list = field(default_factory=list)      # [{"name", "protocol", "port"}]
    server_pid: int | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass
class Node:
    name: str
    netns: str
    address: str
    run_dir: str
    pid: int | None = None


@dataclass
class Lab:
    name: str
    pool: str = DEFAULT_POOL
    etcd_pid: int | None = None
    nodes: dict = field(default_factory=dict)        # name -> Node
    namespaces: dict = field(default_factory=dict)   # name -> labels
    pods: dict = field(default_factory=dict)         # "ns/pod" -> Pod
    complete: bool = False                           # `up` finished (False: half-built)

    @property
    def dir(self) -> str:
        return os.path.join(LAB_ROOT, self.name)

    @property
    def fabric_ns(self) -> str:
        return f"{self.name}-fabric"

    @property
    def etcd_endpoint(self) -> str:
        return f"http://{FABRIC_NET}.1:{ETCD_PORT}"

    def node_ns(self, node: str) -> str:
        return f"{self.name}-{node}"

    def to_json(self) -> dict:
        return {"name": self.name, "pool": self.pool, "etcd_pid": self.etcd_pid, "complete": self.complete,
                "nodes": {k: asdict(v) for k, v in self.nodes.items()},
                "namespaces": self.namespaces,
                "pods": {k: asdict(v) for k, v in self.pods.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "Lab":
        lab = cls(d["name"], d.get("pool", DEFAULT_POOL), d.get("etcd_pid"), complete=d.get("complete", True))
        lab.nodes = {k: Node(**v) for k, v in d.get("nodes", {}).items()}
        lab.namespaces = d.get("namespaces", {})
        lab.pods = {k: Pod(**v) for k, v in d.get("pods", {}).items()}
        return lab


class LabNotFound(Exception):
    pass


def validate_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise ValueError(f"invalid lab name {name!r}: 1-8 lower-case letters/digits, starting with a "
                         f"letter (it prefixes every namespace and interface the lab creates)")


def state_path(name: str) -> str:
    return os.path.join(LAB_ROOT, name, "state.json")


def load(name: str) -> Lab:
    try:
        with open(state_path(name)) as f:
            return Lab.from_json(json.load(f))
    except FileNotFoundError:
        raise LabNotFound(f"no lab named {name!r} (start one with: calico-lab up --name {name})") from None


def save(lab: Lab) -> None:
    os.makedirs(lab.dir, exist_ok=True)
    tmp = state_path(lab.name) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(lab.to_json(), f, indent=1)
    os.replace(tmp, state_path(lab.name))


@contextlib.contextmanager
def locked(name: str, create: bool = False):
    """Serialise concurrent calico-lab calls on one lab (e.g. pods added in parallel).
    Only `up` (create=True) may make the lab's directory."""
    if not create and not os.path.isdir(os.path.join(LAB_ROOT, name)):
        raise LabNotFound(f"no lab named {name!r} (start one with: calico-lab up --name {name})")
    os.makedirs(os.path.join(LAB_ROOT, name), exist_ok=True)
    with open(os.path.join(LAB_ROOT, name, "lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def in_use(name: str) -> bool:
    """True while another calico-lab call holds the lab's lock (e.g. an `up` in progress)."""
    path = os.path.join(LAB_ROOT, name, "lock")
    if not os.path.exists(path):
        return False
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def known_labs() -> list[str]:
    if not os.path.isdir(LAB_ROOT):
        return []
    return sorted(d for d in os.listdir(LAB_ROOT) if os.path.isdir(os.path.join(LAB_ROOT, d)))
