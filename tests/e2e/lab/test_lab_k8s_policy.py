"""Kubernetes NetworkPolicy semantics on the x/y/z model, one case per documented
behaviour (tests/e2e/lab/k8s_cases.py), each checked as full 9x9 matrices.

Per case: apply the policies through `calico-lab ctl`, wait a short settle (so a case
whose expectation equals the baseline still measures the policy in force), poll each
matrix until it equals the expected truth table, then delete the policies, undo any label
change and wait for the baseline before the next case.
"""
import time

import pytest

from tests.e2e.lab.conftest import PODS, PORTS, SETTLE
from tests.e2e.lab.k8s_cases import CASES, np
from tests.e2e.lab.reachability import Reachability, from_, in_ns


def test_lab_k8s_case_count():
    assert len(CASES) >= 20


@pytest.fixture(scope="module")
def policy_free_lab(lab):
    lab.remove_all_policies()
    return lab


@pytest.mark.parametrize("name", sorted(CASES))
def test_lab_k8s_policy(policy_free_lab, name):
    lab = policy_free_lab
    c = CASES[name](lab.ips, lab.pool)
    try:
        for args in c.before:
            lab.cli(*[a.replace("{lab}", lab.name) for a in args])
        lab.apply(c.policies)
        time.sleep(SETTLE)
        for port, proto, expected in c.probes:
            lab.wait_matrix(expected, port, proto, what=name)
    finally:
        if not lab.delete(c.policies, check=False):
            lab.remove_all_policies()
        for args in c.after:
            lab.cli(*[a.replace("{lab}", lab.name) for a in args])
        for port, proto in sorted({(p, q) for p, q, _ in c.probes}):
            lab.wait_matrix(lab.baseline(), port, proto, what=f"baseline after {name}")


def test_lab_k8s_policy_updated_in_place(policy_free_lab):
    """Kubernetes e2e "should enforce updated policy": the same policy re-applied with a
    different rule changes the matrix, with no gap back to open."""
    lab = policy_free_lab
    deny = np("x-policy", "x", types=["Ingress"])
    allow_y = np("x-policy", "x", types=["Ingress"],
                 ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"ns": "y"}}}]}])
    try:
        lab.apply([deny])
        lab.wait_matrix(Reachability(PODS).ingress(in_ns("x")), 80, "TCP", what="deny")
        lab.apply([allow_y])
        lab.wait_matrix(Reachability(PODS).ingress(in_ns("x"), from_(in_ns("y"))), 80, "TCP", what="updated")
    finally:
        lab.delete([allow_y], check=False)
        lab.wait_matrix(lab.baseline(), 80, "TCP", what="baseline")


def test_lab_k8s_policy_applies_to_pod_created_later(policy_free_lab):
    """A pod created in x after a default-deny is isolated from its first packet on; once
    deleted, the lab is back to the 9-pod baseline."""
    lab = policy_free_lab
    deny = np("default-deny", "x", types=["Ingress"])
    ports = sum((["--port", p] for p in PORTS), [])
    try:
        lab.apply([deny])
        lab.wait_matrix(Reachability(PODS).ingress(in_ns("x")), 80, "TCP", what="deny, 9 pods")
        lab.cli("pod", "add", "--name", lab.name, "x/d", "--node", "node3", "--label", "pod=d", *ports)
        ten = Reachability(PODS + ["x/d"]).ingress(in_ns("x"))
        lab.wait_matrix(ten, 80, "TCP", what="deny, x/d added")
        lab.wait_matrix(ten, 81, "UDP", what="deny, x/d added")
    finally:
        lab.cli("pod", "del", "--name", lab.name, "x/d", check=False)
        lab.delete([deny], check=False)
        lab.wait_matrix(lab.baseline(), 80, "TCP", what="baseline")
