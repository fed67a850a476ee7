"""The plugins start a fresh interpreter per pod: keep heavy packages out of their imports."""
from __future__ import annotations

import subprocess
import sys

HEAVY = ("click", "jinja2", "felixpy", "grpc", "etcd3", "pyroute2", "google.protobuf", "http",
         "email", "ssl", "yaml")

CODE = ("import sys, cni_py.calico_plugin, cni_py.ipam_plugin, cni_py.etcd_gateway, "
        "libcalico_py.ipam.allocator, libcalico_py.model.endpoint; "
        "print(' '.join(sorted(sys.modules)))")


def test_add_path_imports_no_heavy_package():
    loaded = set(subprocess.run([sys.executable, "-c", CODE], check=True, capture_output=True,
                                text=True).stdout.split())
    assert "cni_py.calico_plugin" in loaded and "libcalico_py.ipam.allocator" in loaded
    assert sorted(loaded & set(HEAVY)) == []
