"""Golden cases for confdpy: `cases/<case>/input.yaml` -> `cases/<case>/expected/*.cfg`.

`input.yaml` holds `node` (rendered for), optional `routerID` (CALICO_ROUTER_ID),
`secrets` (`<name>/<key>: value`), `affinities` (block CIDR -> state) and `resources`
(Calico documents; `apiVersion` may be left out). Every resource goes through
`libcalico_py.model.load` first, as the watcher does, so defaults are Calico's.
"""
from __future__ import annotations

import os
import pathlib
import re

import yaml

from confdpy.processor import build_bird_config
from confdpy.render import Renderer
from confdpy.snapshot import BgpSnapshot
from libcalico_py import model

CASES_DIR = pathlib.Path(__file__).parent / "cases"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def case_names() -> list[str]:
    return sorted(p.name for p in CASES_DIR.iterdir() if (p / "input.yaml").exists())


def load_case(name: str) -> dict:
    with open(CASES_DIR / name / "input.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def snapshot_of(case: dict) -> BgpSnapshot:
    docs = []
    for doc in case.get("resources") or []:
        doc = dict(doc, apiVersion=doc.get("apiVersion", "projectcalico.org/v3"))
        docs.append(model.load(doc).to_dict())
    return BgpSnapshot.from_documents(docs, case.get("affinities") or {})


def secrets_of(case: dict):
    table = case.get("secrets") or {}
    return lambda name, key: table.get(f"{name}/{key}")


def model_of(name: str, node: str | None = None):
    case = load_case(name)
    return build_bird_config(snapshot_of(case), node or case["node"], case.get("routerID"),
                             secrets_of(case))


def render_case(name: str, node: str | None = None) -> dict[str, str]:
    return Renderer().render(model_of(name, node))


_BGP_BLOCK = re.compile(r"^protocol bgp (\S+) from bgp_template \{\n(.*?)^\}", re.M | re.S)


def bgp_protocols(bird_cfg: str) -> dict[str, dict]:
    """Facts of each `protocol bgp` block of a rendered bird.cfg, read back from the text:
    neighbor, neighbor port, peer AS, local AS and the set of other option lines."""
    out = {}
    for name, body in _BGP_BLOCK.findall(bird_cfg):
        facts: dict = {"options": set()}
        for line in body.splitlines():
            line = line.split("#")[0].strip().rstrip(";")
            m = re.match(r"neighbor (\S+)(?: port (\d+))? as (\d+)$", line)
            if m:
                facts.update(neighbor=m[1], port=int(m[2]) if m[2] else None, peer_as=int(m[3]))
                continue
            m = re.match(r"local(?: (\S+?))?(?: port (\d+))? as (\d+)$", line)
            if m:
                facts.update(local_ip=m[1], local_port=int(m[2]) if m[2] else None, local_as=int(m[3]))
                continue
            if line and not line.endswith("{") and line not in ("}",):
                facts["options"].add(line)
        out[name] = facts
    return out
