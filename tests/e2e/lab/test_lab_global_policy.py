"""Calico GlobalNetworkPolicy default-deny with exceptions, on the x/y/z lab.

The pattern of examples/global-default-deny.yaml (a rule-less order-2000 policy that
selects every workload outside some namespaces; DNS egress to kube-dns kept open),
adapted: namespace z is the exception, and two order-100 policies open exactly one path,
x/a -> y/b on TCP 80 (egress at the client, ingress at the server).
"""
import os
import time

import yaml

from tests.e2e.lab.conftest import SETTLE
from tests.e2e.lab.reachability import Reachability, from_, in_ns, named, not_, to

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "examples", "global-default-deny.yaml")
NOT_Z = not_(in_ns("z"))


def _default_deny() -> dict:
    with open(EXAMPLE) as f:
        doc = yaml.safe_load(f)
    doc["spec"]["selector"] = "projectcalico.org/namespace not in {'z'}"
    return doc


def _gnp(name: str, order: int, selector: str, **spec) -> dict:
    return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": name}, "spec": {"order": order, "selector": selector, **spec}}


ALLOW_PATH = [
    _gnp("allow-xa-egress-yb", 100, "projectcalico.org/namespace == 'x' && pod == 'a'", types=["Egress"],
         egress=[{"action": "Allow", "protocol": "TCP",
                  "destination": {"namespaceSelector": "ns == 'y'", "selector": "pod == 'b'", "ports": [80]}}]),
    _gnp("allow-yb-ingress-xa", 100, "projectcalico.org/namespace == 'y' && pod == 'b'", types=["Ingress"],
         ingress=[{"action": "Allow", "protocol": "TCP",
                   "source": {"namespaceSelector": "ns == 'x'", "selector": "pod == 'a'"},
                   "destination": {"ports": [80]}}]),
]


def _denied(lab) -> Reachability:
    return Reachability(sorted(lab.ips)).ingress(NOT_Z).egress(NOT_Z)


def test_lab_global_default_deny_except_z(clean_lab):
    lab = clean_lab
    lab.apply([_default_deny()])
    time.sleep(SETTLE)
    lab.wait_matrix(_denied(lab), 80, "TCP", what="global default-deny")
    lab.wait_matrix(_denied(lab), 81, "UDP", what="global default-deny")


def test_lab_global_default_deny_with_one_allowed_path(clean_lab):
    lab = clean_lab
    lab.apply([_default_deny(), *ALLOW_PATH])
    time.sleep(SETTLE)
    xa, yb = named("x/a"), named("y/b")
    path = _denied(lab).egress(xa, to(yb)).ingress(yb, from_(xa))
    lab.wait_matrix(path, 80, "TCP", what="default-deny + x/a->y/b:80")
    lab.wait_matrix(_denied(lab), 81, "TCP", what="default-deny + x/a->y/b:80 (port 81 stays closed)")
