"""The validation filter: what counts as a valid resource update."""
from __future__ import annotations

import json

from felixpy.calc.snapshot import delete_for, key_for, update_for
from felixpy.calc.validation_filter import ValidationFilter
from libcalico_py.datastore.syncer import Update
from tests.unit.felixpy.calc import states as st


def test_valid_value_decodes_with_key_identity():
    f = ValidationFilter()
    u = f.decode(update_for(st.EP1, 7))
    assert (u.kind, u.namespace, u.name, u.revision) == ("WorkloadEndpoint", "ns1", st.ep_name("web1"), 7)
    assert u.resource.kind == "WorkloadEndpoint" and u.doc == st.EP1
    assert f.rejected == 0


def test_deletion_and_non_resource_keys():
    f = ValidationFilter()
    u = f.decode(delete_for("GlobalNetworkPolicy", "x"))
    assert (u.kind, u.name, u.resource, u.doc) == ("GlobalNetworkPolicy", "x", None, None)
    assert f.decode(Update("/calico/ipam/v2/config", b"{}", 1)) is None
    assert f.decode(Update("/calico/resources/v3/projectcalico.org/nosuchkinds/x", b"{}", 1)) is None


def test_value_stored_under_the_wrong_key_is_rejected():
    f = ValidationFilter()
    wrong_kind = Update(key_for(st.GNP_DENY_OUT), json.dumps(st.PROF_NS1).encode(), 1)
    wrong_name = Update(key_for(st.GNP_DENY_OUT).replace("deny-out", "other"),
                        json.dumps(st.GNP_DENY_OUT).encode(), 2)
    for update in (wrong_kind, wrong_name):
        u = f.decode(update)
        assert u.resource is None and u.doc is None
    assert f.rejected == 2


def test_invalid_policy_is_rejected_with_every_reason(caplog):
    bad = st.gnp("bad", selector="app ==", ingress=[{"action": "Jump"}])
    u = ValidationFilter().decode(update_for(bad))
    assert u.resource is None
    assert "spec.selector" in caplog.text and "spec.ingress[0].action" in caplog.text
