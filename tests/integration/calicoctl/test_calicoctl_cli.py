"""calicoctl-py as a program: `--help` with an example on every command, shell completion,
configuration from a CalicoAPIConfig file or the ETCD_* environment (plain and TLS etcd),
and calicoctl's wording for unknown fields, missing resources and partial failures."""
import textwrap

import click
import pytest

from calicoctl_py.cli import main
# The datastore tests' openssl CA and TLS etcd fixtures, reused as they are.
from tests.integration.calicoctl.cli_runner import calicoctl

POOL = textwrap.dedent("""\
    apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata: {name: pool1}
    spec: {cidr: 10.65.0.0/16}
    """)


def _command_paths(group=main, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        yield path
        if isinstance(cmd, click.Group):
            yield from _command_paths(cmd, path)


COMMANDS = [()] + list(_command_paths())


def test_every_command_is_covered():
    names = {" ".join(p) for p in COMMANDS}
    for expected in ("create", "apply", "replace", "delete", "get", "patch", "label", "validate",
                     "version", "node status", "node checksystem", "ipam show", "ipam check",
                     "ipam release", "ipam configure", "datastore migrate export",
                     "datastore migrate import", "datastore migrate lock", "datastore migrate unlock",
                     "completion"):
        assert expected in names


GROUPS_AND_COMPLETION = {("node",), ("ipam",), ("datastore",), ("datastore", "migrate"), ("completion",)}


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "calicoctl-py")
def test_help_exits_zero_and_shows_an_example(path):
    # Every command also accepts calicoctl's --allow-version-mismatch (scripts pass it):
    # an unknown option would be a usage error (exit 2) even with --help.
    extra = () if path in GROUPS_AND_COMPLETION else ("--allow-version-mismatch",)
    r = calicoctl(None, *path, *extra, "--help").assert_ok()
    assert r.out.startswith("Usage: calicoctl-py")
    assert "Example" in r.out, r.out
    assert "calicoctl-py " + " ".join(path) in r.out


def test_completion_script_and_completions():
    script = calicoctl(None, "completion", "bash").assert_ok().out
    assert "_CALICOCTL_PY_COMPLETE=bash_complete" in script and "complete -o nosort -F" in script
    r = calicoctl(None, env={"COMP_WORDS": "calicoctl-py ip", "COMP_CWORD": "1",
                             "_CALICOCTL_PY_COMPLETE": "bash_complete"}).assert_ok()
    assert r.out.split() == ["plain,ipam"]
    r = calicoctl(None, env={"COMP_WORDS": "calicoctl-py ipam sh", "COMP_CWORD": "2",
                             "_CALICOCTL_PY_COMPLETE": "bash_complete"}).assert_ok()
    assert r.out.split() == ["plain,show"]
    assert "compdef" in calicoctl(None, "completion", "zsh").assert_ok().out
    calicoctl(None, "completion", "tcsh").assert_error("tcsh")


def test_config_file_selects_the_datastore(etcd, tmp_path):
    cfg = tmp_path / "calicoctl.cfg"
    cfg.write_text(textwrap.dedent(f"""\
        apiVersion: projectcalico.org/v3
        kind: CalicoAPIConfig
        metadata: {{}}
        spec:
          datastoreType: etcdv3
          etcdEndpoints: {etcd.endpoint}
        """))
    calicoctl(None, "apply", "-c", str(cfg), "-f", "-", stdin=POOL).assert_ok()
    rows = calicoctl(None, "get", "ippool", "--config", str(cfg)).assert_ok().rows()
    assert rows == [["NAME", "CIDR", "SELECTOR"], ["pool1", "10.65.0.0/16", "all()"]]
    # The file wins over the environment, as in calicoctl.
    rows = calicoctl("http://127.0.0.1:1", "get", "ippool", "-c", str(cfg)).assert_ok().rows()
    assert rows[1][0] == "pool1"
    calicoctl(None, "get", "ippool", "-c", str(tmp_path / "missing.cfg")).assert_error(
        "file does not exist")
    bad = tmp_path / "bad.cfg"
    bad.write_text("apiVersion: projectcalico.org/v3\nkind: Nope\nspec: {}\n")
    r = calicoctl(None, "get", "ippool", "-c", str(bad)).assert_error("CalicoAPIConfig")
    assert len(r.err.strip().splitlines()) == 1


def test_environment_selects_the_datastore(etcd):
    calicoctl(etcd.endpoint, "apply", "-f", "-", stdin=POOL).assert_ok()
    # Both spellings calicoctl accepts: ETCD_ENDPOINTS and CALICO_ETCD_ENDPOINTS.
    r = calicoctl(None, "get", "ippool", env={"CALICO_ETCD_ENDPOINTS": etcd.endpoint}).assert_ok()
    assert r.rows()[1][0] == "pool1"
    r = calicoctl(None, "get", "ippool", env={"ETCD_ENDPOINTS": f"http://127.0.0.1:1,{etcd.endpoint}"})
    assert r.assert_ok().rows()[1][0] == "pool1"


def test_tls_etcd_via_environment_and_config_file(tls_etcd, tls_certs, tmp_path):
    env = {"ETCD_CA_CERT_FILE": tls_certs["ca.pem"], "ETCD_CERT_FILE": tls_certs["client.pem"],
           "ETCD_KEY_FILE": tls_certs["client.key"]}
    calicoctl(tls_etcd.endpoint, "apply", "-f", "-", stdin=POOL, env=env).assert_ok()
    rows = calicoctl(tls_etcd.endpoint, "get", "ippools", env=env).assert_ok().rows()
    assert rows[1][:2] == ["pool1", "10.65.0.0/16"]
    r = calicoctl(tls_etcd.endpoint, "get", "ippools",
                  env={"ETCD_CA_CERT_FILE": tls_certs["ca.pem"]})
    r.assert_error(tls_etcd.endpoint)
    assert "ETCD_CERT_FILE" in r.err and len(r.err.strip().splitlines()) == 1
    cfg = tmp_path / "tls.cfg"
    cfg.write_text(textwrap.dedent(f"""\
        apiVersion: projectcalico.org/v3
        kind: CalicoAPIConfig
        spec:
          etcdEndpoints: {tls_etcd.endpoint}
          etcdCACertFile: {tls_certs["ca.pem"]}
          etcdCertFile: {tls_certs["client.pem"]}
          etcdKeyFile: {tls_certs["client.key"]}
        """))
    r = calicoctl(None, "get", "ippool", "pool1", "-o", "yaml", "-c", str(cfg)).assert_ok()
    assert r.yaml()["spec"]["cidr"] == "10.65.0.0/16"


@pytest.fixture
def ctl(etcd):
    return lambda *a, **kw: calicoctl(etcd.endpoint, *a, **kw)


def test_unknown_field_message_names_the_path(ctl, etcd):
    doc = POOL.replace("spec: {cidr: 10.65.0.0/16}", "spec: {cidr: 10.65.0.0/16, natOutgoin: true}")
    r = ctl("apply", "-f", "-", stdin=doc).assert_error(
        "field in document is not recognized or is in the wrong location: spec.natOutgoin")
    ctl("create", "-f", "-", stdin=POOL.replace("metadata:", "metdata:")).assert_error(
        "field in document is not recognized or is in the wrong location: metdata")
    ctl("apply", "-f", "-", stdin=POOL).assert_ok()
    ctl("patch", "ippool", "pool1", "-p", '{"spec":{"bogus":1}}').assert_error(
        "field in document is not recognized or is in the wrong location: spec.bogus")
    assert "nothing was written" in r.err


def test_missing_and_existing_resource_messages(ctl):
    ctl("get", "ippool", "nope").assert_error(
        "Failed to get resources: resource does not exist: IPPool(nope)")
    ctl("get", "np", "nope", "-n", "prod").assert_error(
        "resource does not exist: NetworkPolicy(prod/nope)")
    ctl("delete", "ippool", "nope").assert_error(
        "Failed to delete 'IPPool' resource: resource does not exist: IPPool(nope)")
    ctl("delete", "ippool", "nope", "nope2").assert_error(
        "Failed to delete any 'IPPool' resources: resource does not exist: IPPool(nope)")
    ctl("apply", "-f", "-", stdin=POOL).assert_ok()
    r = ctl("delete", "ippool", "pool1", "nope").assert_error()
    assert r.err.splitlines() == ["Partial success: deleted the first 1 out of 2 'IPPool' resources:",
                                  "Hit error: resource does not exist: IPPool(nope)"]
    ctl("apply", "-f", "-", stdin=POOL).assert_ok()
    ctl("create", "-f", "-", stdin=POOL).assert_error(
        "Failed to create 'IPPool' resource: resource already exists: IPPool(pool1)")
    pool2 = POOL.replace("pool1", "pool2").replace("10.65.", "10.66.")
    ctl("apply", "-f", "-", stdin=pool2).assert_ok()
    two = POOL + "---\n" + pool2
    r = ctl("create", "-f", "-", stdin=two).assert_error("Failed to create any 'IPPool' resources")
    ctl("delete", "ippool", "pool1").assert_ok()
    r = ctl("create", "-f", "-", stdin=two).assert_error()
    assert r.err.startswith("Partial success: created the first 1 out of 2 'IPPool' resources:\n"
                            "Hit error: resource already exists: IPPool(pool2)")


def test_empty_manifest(ctl, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    ctl("apply", "-f", str(empty)).assert_error("No resources specified in file")
    r = ctl("create", "-f", str(empty), "--skip-empty").assert_ok()
    assert r.out == ""
