"""docker-compose.yml and the Dockerfile (no Docker engine here: validated, not run).

Checks the compose structure Calico's manifests use (host network, privileged node, CNI
directories mounted) and that everything the files reference exists in this repository:
COPY sources, entrypoints (console scripts in setup.cfg), environment the node reads.
"""
import configparser
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).parents[3]


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _console_scripts() -> set[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    lines = cfg["options.entry_points"]["console_scripts"].strip().splitlines()
    return {line.split("=")[0].strip() for line in lines if line.strip()}


def test_services_and_node_settings():
    c = _compose()
    assert set(c["services"]) == {"etcd", "calico-node", "calicoctl"}
    node = c["services"]["calico-node"]
    assert node["network_mode"] == "host" and node["privileged"] is True
    mounts = {v.split(":")[1] for v in node["volumes"]}
    assert {node["environment"]["CNI_BIN_DIR"], node["environment"]["CNI_CONF_DIR"], "/var/run/calico",
            "/var/lib/calico", "/lib/modules"} <= mounts
    assert node["environment"]["ETCD_ENDPOINTS"].endswith(":2379")
    assert "etcd" in node["depends_on"]


def test_every_named_volume_is_declared():
    c = _compose()
    for svc in c["services"].values():
        for v in svc.get("volumes", []):
            src = v.split(":")[0]
            if not src.startswith("/"):
                assert src in c["volumes"], src


def test_entrypoints_exist():
    scripts = _console_scripts() | {"etcd"}
    for name, svc in _compose()["services"].items():
        if "entrypoint" in svc:
            assert svc["entrypoint"][0] in scripts, name
    docker = (ROOT / "Dockerfile").read_text()
    entry = re.search(r'ENTRYPOINT \["([^"]+)"', docker).group(1)
    assert entry in scripts


def test_dockerfile_copies_only_what_exists():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for src in line.split()[1:-1]:
                assert (ROOT / src).exists(), src


def test_node_environment_is_read_by_the_node():
    from node_py.settings import NodeSettings
    env = _compose()["services"]["calico-node"]["environment"]
    s = NodeSettings.from_env({k: str(v) for k, v in env.items()})
    assert s.cni_conf_name == "10-calico-py.conflist" and s.pool_block_size == 26
    assert s.felix_env["FELIX_DEFAULTENDPOINTTOHOSTACTION"] == "ACCEPT"
    source = (ROOT / "node_py" / "settings.py").read_text()
    for var in env:
        if not var.startswith("FELIX_") and var != "DATASTORE_TYPE":
            assert f'"{var}"' in source, f"{var} is set in compose but never read"
