"""Kubernetes NetworkPolicy semantics on the x/y/z model, one case per documented
behaviour (tests/e2e/lab/k8s_cases.py), each checked as full 9x9 matrices.

Per case: apply the policies through `calico-lab ctl`, wait a short settle (so a case
whose expectation equals the baseline still measures the policy in force), poll each
matrix until it equals the expected truth table, then delete the policies, undo any label
change and wait for the baseline before the next case.
"""
import time

import pytest

from tests.e2e.lab.conftest import SETTLE
from tests.e2e.lab.k8s_cases import CASES


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
