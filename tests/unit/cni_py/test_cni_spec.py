"""CNI versions, result conversion, error objects and the error-code mapping."""
from __future__ import annotations

import pytest

from cni_py import spec
from cni_py.spec import CNIError
from libcalico_py.errors import DatastoreUnavailable, FieldError, ValidationError
from libcalico_py.ipam.allocator import InvalidPoolRequest, PoolExhausted, TooManyRetries

RESULT = {"interfaces": [{"name": "cali1", "mac": "ee:ee:ee:ee:ee:ee"}],
          "ips": [{"address": "10.0.0.1/32", "interface": 0}], "dns": {}}


def test_check_version():
    for v in ("0.3.0", "0.3.1", "0.4.0", "1.0.0"):
        assert spec.check_version(v) == v
    with pytest.raises(CNIError) as e:
        spec.check_version("0.2.0")
    assert e.value.code == 1
    with pytest.raises(CNIError) as e:
        spec.check_version(None)
    assert e.value.code == 7
    with pytest.raises(CNIError, match="does not allow CHECK") as e:
        spec.check_version("0.3.1", "CHECK")
    assert e.value.code == 1


def test_result_conversion_both_ways():
    old = spec.format_result(RESULT, "0.3.1")
    assert old["cniVersion"] == "0.3.1" and old["ips"][0]["version"] == "4"
    new = spec.format_result(spec.normalise_result(old), "1.0.0")
    assert new == dict(RESULT, cniVersion="1.0.0")


def test_error_object_and_version_answer():
    assert CNIError(7, "bad", "why").to_dict("0.4.0") == {"cniVersion": "0.4.0", "code": 7,
                                                          "msg": "bad", "details": "why"}
    assert spec.version_answer(b'{"cniVersion":"0.4.0"}')["cniVersion"] == "0.4.0"
    assert spec.version_answer(b"garbage")["supportedVersions"] == list(spec.SUPPORTED_VERSIONS)
    assert spec.error_version(b'{"cniVersion":"0.3.1"}') == "0.3.1"
    assert spec.error_version(b'{"cniVersion":"9.9.9"}') == "1.0.0"


@pytest.mark.parametrize("exc,code", [
    (DatastoreUnavailable(["http://e:1"], "refused"), 11),
    (TooManyRetries("busy"), 11),
    (InvalidPoolRequest("no such pool"), 7),
    (ValidationError([FieldError("spec.x", "bad")]), 7),
    (PoolExhausted("full"), 999),
    (FileNotFoundError(2, "gone"), 5),
    (RuntimeError("boom"), 999),
])
def test_library_errors_map_to_codes(exc, code):
    assert spec.from_exception(exc).code == code
