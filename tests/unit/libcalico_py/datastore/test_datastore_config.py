"""calicoctl-style datastore configuration: environment (with and without the CALICO_
prefix), CalicoAPIConfig files, and one precise error per bad field."""
import pytest

from libcalico_py.datastore.config import (DEFAULT_ENDPOINT, ConfigError, DatastoreConfig,
                                           endpoint_target)


@pytest.fixture
def pem(tmp_path):
    paths = {}
    for name in ("ca.pem", "cert.pem", "key.pem"):
        p = tmp_path / name
        p.write_text("-----BEGIN X-----\n")
        paths[name] = str(p)
    return paths


def test_defaults_when_nothing_set():
    cfg = DatastoreConfig.from_env({})
    assert cfg.endpoints == [DEFAULT_ENDPOINT] == ["http://127.0.0.1:2379"]
    assert cfg.ca_cert_file is None and cfg.username is None


def test_endpoints_comma_list_with_spaces():
    cfg = DatastoreConfig.from_env({"ETCD_ENDPOINTS": "http://10.0.0.1:2379, http://10.0.0.2:2379,"})
    assert cfg.endpoints == ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]


def test_calico_prefix_accepted_and_wins():
    cfg = DatastoreConfig.from_env({"CALICO_ETCD_ENDPOINTS": "http://a:1",
                                    "ETCD_ENDPOINTS": "http://b:2"})
    assert cfg.endpoints == ["http://a:1"]
    cfg = DatastoreConfig.from_env({"CALICO_DATASTORE_TYPE": "etcdv3",
                                    "ETCD_ENDPOINTS": "http://b:2"})
    assert cfg.endpoints == ["http://b:2"]


def test_tls_files_from_env(pem):
    cfg = DatastoreConfig.from_env({
        "ETCD_ENDPOINTS": "https://127.0.0.1:2379",
        "ETCD_CA_CERT_FILE": pem["ca.pem"],
        "CALICO_ETCD_CERT_FILE": pem["cert.pem"],
        "ETCD_KEY_FILE": pem["key.pem"],
    })
    assert (cfg.ca_cert_file, cfg.cert_file, cfg.key_file) == (
        pem["ca.pem"], pem["cert.pem"], pem["key.pem"])
    assert cfg.uses_tls


def test_username_password():
    cfg = DatastoreConfig.from_env({"ETCD_USERNAME": "root", "ETCD_PASSWORD": "pw"})
    assert (cfg.username, cfg.password) == ("root", "pw")


@pytest.mark.parametrize("env,field", [
    ({"DATASTORE_TYPE": "kubernetes"}, "DATASTORE_TYPE"),
    ({"CALICO_DATASTORE_TYPE": "kubernetes"}, "CALICO_DATASTORE_TYPE"),
    ({"ETCD_ENDPOINTS": "127.0.0.1:2379"}, "ETCD_ENDPOINTS"),
    ({"ETCD_ENDPOINTS": "ftp://127.0.0.1:2379"}, "ETCD_ENDPOINTS"),
    ({"ETCD_ENDPOINTS": "http://127.0.0.1:notaport"}, "ETCD_ENDPOINTS"),
    ({"ETCD_ENDPOINTS": " , "}, "ETCD_ENDPOINTS"),
    ({"ETCD_CA_CERT_FILE": "/nonexistent/ca.pem"}, "ETCD_CA_CERT_FILE"),
    ({"CALICO_ETCD_KEY_FILE": "/nonexistent/key.pem"}, "CALICO_ETCD_KEY_FILE"),
    ({"ETCD_USERNAME": "root"}, "ETCD_PASSWORD"),
    ({"ETCD_PASSWORD": "pw"}, "ETCD_USERNAME"),
    ({"ETCD_DISCOVERY_SRV": "example.com"}, "ETCD_DISCOVERY_SRV"),
])
def test_env_errors_name_the_variable(env, field):
    with pytest.raises(ConfigError) as e:
        DatastoreConfig.from_env(env)
    assert str(e.value).startswith(field + ":"), str(e.value)


def test_kubernetes_datastore_message():
    with pytest.raises(ConfigError, match="only etcdv3 is supported"):
        DatastoreConfig.from_env({"DATASTORE_TYPE": "kubernetes"})


def test_cert_without_key(pem):
    with pytest.raises(ConfigError, match="^ETCD_KEY_FILE: a client certificate and its key"):
        DatastoreConfig.from_env({"ETCD_CERT_FILE": pem["cert.pem"]})


def _write(tmp_path, text):
    p = tmp_path / "calicoctl.cfg"
    p.write_text(text)
    return str(p)


def test_file(tmp_path, pem):
    path = _write(tmp_path, f"""
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata: {{}}
spec:
  datastoreType: etcdv3
  etcdEndpoints: https://10.0.0.1:2379,https://10.0.0.2:2379
  etcdCACertFile: {pem['ca.pem']}
  etcdCertFile: {pem['cert.pem']}
  etcdKeyFile: {pem['key.pem']}
""")
    cfg = DatastoreConfig.from_file(path)
    assert cfg.endpoints == ["https://10.0.0.1:2379", "https://10.0.0.2:2379"]
    assert cfg.ca_cert_file == pem["ca.pem"] and cfg.key_file == pem["key.pem"]


def test_file_inline_pem(tmp_path):
    path = _write(tmp_path, """
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
spec:
  etcdEndpoints: https://10.0.0.1:2379
  etcdCACert: |
    -----BEGIN CERTIFICATE-----
""")
    cfg = DatastoreConfig.from_file(path)
    assert cfg.ca_cert.startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize("text,message", [
    ("apiVersion: v1\nkind: CalicoAPIConfig\nspec: {}\n", "apiVersion must be projectcalico.org/v3"),
    ("apiVersion: projectcalico.org/v3\nkind: Config\nspec: {}\n", "kind must be CalicoAPIConfig"),
    ("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n",
     "spec.datastoreType in"),
    ("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: nope\n",
     "spec.etcdEndpoints in"),
    ("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoint: http://a:1\n",
     "unknown field spec.etcdEndpoint"),
    ("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdCACertFile: /no/such\n",
     "spec.etcdCACertFile in"),
    ("apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdUsername: 3\n",
     "spec.etcdUsername must be a string"),
    ("- just\n- a list\n", "expected a CalicoAPIConfig document"),
    ("key: [unclosed\n", "not valid YAML"),
])
def test_file_errors_name_the_field(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        DatastoreConfig.from_file(_write(tmp_path, text))


def test_file_both_inline_and_file(tmp_path, pem):
    path = _write(tmp_path, f"""
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
spec:
  etcdCACertFile: {pem['ca.pem']}
  etcdCACert: inline
""")
    with pytest.raises(ConfigError, match="not both"):
        DatastoreConfig.from_file(path)


def test_load_prefers_given_file(tmp_path):
    path = _write(tmp_path, "apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
                            "spec:\n  etcdEndpoints: http://file:2379\n")
    cfg = DatastoreConfig.load(path, environ={"ETCD_ENDPOINTS": "http://env:2379"})
    assert cfg.endpoints == ["http://file:2379"]


def test_load_missing_given_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        DatastoreConfig.load(str(tmp_path / "missing.cfg"), environ={})


def test_load_falls_back_to_env(monkeypatch, tmp_path):
    monkeypatch.setattr("libcalico_py.datastore.config.DEFAULT_CONFIG_PATH",
                        str(tmp_path / "absent.cfg"))
    cfg = DatastoreConfig.load(environ={"ETCD_ENDPOINTS": "http://env:2379"})
    assert cfg.endpoints == ["http://env:2379"]


def test_endpoint_target():
    assert endpoint_target("http://127.0.0.1:2379") == "127.0.0.1:2379"
    assert endpoint_target("https://etcd.example") == "etcd.example:2379"
    assert endpoint_target("http://[::1]:32379") == "[::1]:32379"


def test_endpoints_given_as_one_string():
    assert DatastoreConfig("http://a:1, http://b:2").endpoints == ["http://a:1", "http://b:2"]
