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


def test_lab_calico_policy_order_deny_before_allow(clean_lab):
    """Calico NetworkPolicy ordering: an order-10 Deny for y/b wins over an order-20 Allow
    of everything, so only y/b -> x is closed (a Kubernetes policy cannot express this)."""
    lab = clean_lab
    common = {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy"}
    lab.apply([
        {**common, "metadata": {"name": "deny-y-b", "namespace": "x"},
         "spec": {"order": 10, "selector": "all()", "types": ["Ingress"],
                  "ingress": [{"action": "Deny", "source": {"namespaceSelector": "ns == 'y'",
                                                            "selector": "pod == 'b'"}}]}},
        {**common, "metadata": {"name": "allow-rest", "namespace": "x"},
         "spec": {"order": 20, "selector": "all()", "types": ["Ingress"], "ingress": [{"action": "Allow"}]}},
    ])
    time.sleep(SETTLE)
    expected = Reachability(sorted(lab.ips)).ingress(in_ns("x"), from_(not_(named("y/b"))))
    lab.wait_matrix(expected, 80, "TCP", what="order-10 deny before order-20 allow")
    lab.wait_matrix(expected, 81, "UDP", what="order-10 deny before order-20 allow")
