"""Effective endpoint labels, namespace/service-account selector translation, and
Kubernetes label key/value rules."""
import pytest

from libcalico_py.selector import SelectorError, parse, validate_label_key, validate_label_value
from libcalico_py.selector.labels import (
    effective_labels, entity_rule_selector, namespace_labels_for_selector, namespace_profile_name,
    namespace_selector_to_label_selector, service_account_labels_for_selector,
    service_account_profile_name, service_account_selector_to_label_selector,
    service_accounts_to_label_selector,
)


def test_own_labels_win_over_profiles_and_first_profile_wins():
    labels = effective_labels(
        {"app": "web", "tier": "fe"},
        [{"app": "from-p1", "env": "prod"}, {"env": "dev", "team": "x"}],
        namespace=None, orchestrator=None)
    assert labels == {"app": "web", "tier": "fe", "env": "prod", "team": "x"}


def test_calico_labels_added_and_override_user_values():
    labels = effective_labels({"projectcalico.org/namespace": "fake", "a": "1"}, [],
                              namespace="prod", orchestrator="k8s", service_account="builder")
    assert labels == {"a": "1", "projectcalico.org/namespace": "prod",
                      "projectcalico.org/orchestrator": "k8s",
                      "projectcalico.org/serviceaccount": "builder"}


def test_no_namespace_labels_for_host_endpoints():
    assert effective_labels({"a": "1"}, [None, {}], namespace=None, orchestrator=None) == {"a": "1"}
    assert effective_labels(None, [], None, None) == {}


def test_user_supplied_pcns_and_pcsa_labels_are_stripped_but_profiles_keep_theirs():
    ns_labels = namespace_labels_for_selector({"team": "blue"}, "prod")
    labels = effective_labels(
        {"pcns.team": "red", "pcsa.role": "admin", "pcns.projectcalico.org/name": "kube-system", "app": "x"},
        [ns_labels], namespace="prod", orchestrator="k8s")
    assert labels["pcns.team"] == "blue"
    assert labels["pcns.projectcalico.org/name"] == "prod"
    assert "pcsa.role" not in labels
    assert labels["app"] == "x"


def test_namespace_and_service_account_label_sets():
    assert namespace_labels_for_selector({"env": "prod"}, "ns1") == {
        "pcns.env": "prod", "pcns.projectcalico.org/name": "ns1"}
    assert namespace_labels_for_selector(None, "ns1") == {"pcns.projectcalico.org/name": "ns1"}
    assert service_account_labels_for_selector({"role": "ci"}, "builder") == {
        "pcsa.role": "ci", "pcsa.projectcalico.org/name": "builder"}
    assert namespace_profile_name("ns1") == "kns.ns1"
    assert service_account_profile_name("ns1", "sa") == "ksa.ns1.sa"


@pytest.mark.parametrize("ns_selector,expected", [
    ("env == 'prod'", 'pcns.env == "prod"'),
    ("has(env) && team in {'b', 'a'}", "(has(pcns.env) && pcns.team in {\"a\", \"b\"})"),
    ("all()", "has(projectcalico.org/namespace)"),
    ("", "has(projectcalico.org/namespace)"),
    ("global()", "!has(projectcalico.org/namespace)"),
    ("!has(x) || x != 'y'", '(!has(pcns.x) || pcns.x != "y")'),
    ("projectcalico.org/name == 'kube-system'", 'pcns.projectcalico.org/name == "kube-system"'),
    ("a == 'all()'", 'pcns.a == "all()"'),  # a value is not rewritten
])
def test_namespace_selector_translation(ns_selector, expected):
    assert namespace_selector_to_label_selector(ns_selector) == expected


def test_namespace_selector_translation_end_to_end():
    """A pod in a namespace labelled env=prod is selected by namespaceSelector env == 'prod'."""
    pod = effective_labels({"app": "db"}, [namespace_labels_for_selector({"env": "prod"}, "prod-ns")],
                           namespace="prod-ns", orchestrator="k8s")
    other = effective_labels({"app": "db"}, [namespace_labels_for_selector({"env": "dev"}, "dev-ns")],
                             namespace="dev-ns", orchestrator="k8s")
    host = effective_labels({"app": "db"}, [], namespace=None, orchestrator=None)
    sel = parse(namespace_selector_to_label_selector("env == 'prod'"))
    assert [sel.evaluate(x) for x in (pod, other, host)] == [True, False, False]
    glob = parse(namespace_selector_to_label_selector("global()"))
    assert [glob.evaluate(x) for x in (pod, other, host)] == [False, False, True]
    every = parse(namespace_selector_to_label_selector("all()"))
    assert [every.evaluate(x) for x in (pod, other, host)] == [True, True, False]
    # A pod may not claim another namespace's labels.
    impostor = effective_labels({"pcns.env": "prod"}, [namespace_labels_for_selector({}, "dev-ns")],
                                namespace="dev-ns", orchestrator="k8s")
    assert not sel.evaluate(impostor)


def test_service_account_selectors():
    assert service_account_selector_to_label_selector("role == 'ci'") == 'pcsa.role == "ci"'
    assert service_accounts_to_label_selector(None, ["b", "a"]) == \
        'projectcalico.org/serviceaccount in {"a", "b"}'
    assert service_accounts_to_label_selector("role == 'ci'", ["a"]) == \
        '(pcsa.role == "ci") && (projectcalico.org/serviceaccount in {"a"})'
    assert service_accounts_to_label_selector("role == 'ci'", []) == 'pcsa.role == "ci"'
    assert service_accounts_to_label_selector(None, []) == ""


def test_translation_of_bad_selector_raises():
    with pytest.raises(SelectorError):
        namespace_selector_to_label_selector("env ==")


@pytest.mark.parametrize("kwargs,expected", [
    ({}, ""),
    ({"selector": "app == 'x'"}, "app == 'x'"),
    ({"selector": "app == 'x'", "policy_namespace": "ns1"},
     "(projectcalico.org/namespace == 'ns1') && (app == 'x')"),
    ({"policy_namespace": "ns1"}, ""),  # only nets: not namespace-restricted
    ({"not_selector": "app == 'x'", "policy_namespace": "ns1"}, "projectcalico.org/namespace == 'ns1'"),
    ({"namespace_selector": "env == 'prod'"}, 'pcns.env == "prod"'),
    ({"namespace_selector": "env == 'prod'", "selector": "app == 'x'", "policy_namespace": "ns1"},
     "(pcns.env == \"prod\") && (app == 'x')"),
    ({"namespace_selector": "global()", "selector": "role == 'gw'"},
     "(!has(projectcalico.org/namespace)) && (role == 'gw')"),
    ({"service_account_names": ["sa1"], "selector": "app == 'x'"},
     "(projectcalico.org/serviceaccount in {\"sa1\"}) && (app == 'x')"),
])
def test_entity_rule_selector(kwargs, expected):
    text = entity_rule_selector(**kwargs)
    assert text == expected
    parse(text)


@pytest.mark.parametrize("key", [
    "a", "app", "A", "a-b_c.d", "1", "x" * 63, "example.com/app", "projectcalico.org/namespace",
    "a.b-c.d/Name_1", "k8s.io/x", ("a" * 63 + ".") * 3 + "b" * 61 + "/x",
])
def test_valid_label_keys(key):
    assert validate_label_key(key) is None


@pytest.mark.parametrize("key,reason", [
    ("", "non-empty"),
    ("x" * 64, "63"),
    ("-a", "alphanumeric"),
    ("a-", "alphanumeric"),
    ("a b", "alphanumeric"),
    ("a/b/c", "at most one"),
    ("/a", "prefix part must be non-empty"),
    ("a/", "name part must be non-empty"),
    ("Example.com/a", "DNS-1123"),
    ("ex_ample.com/a", "DNS-1123"),
    ("a" * 254 + "/x", "253"),
    ("a@b", "alphanumeric"),
    ("é", "alphanumeric"),
    (5, "string"),
])
def test_invalid_label_keys(key, reason):
    assert reason in validate_label_key(key)


@pytest.mark.parametrize("value", ["", "a", "A-b_c.d", "1.2.3", "v" * 63, "x1"])
def test_valid_label_values(value):
    assert validate_label_value(value) is None


@pytest.mark.parametrize("value,reason", [
    ("v" * 64, "63"), ("-a", "alphanumeric"), ("a.", "alphanumeric"), ("a b", "alphanumeric"),
    ("a/b", "alphanumeric"), ("a\n", "alphanumeric"), (None, "string"),
])
def test_invalid_label_values(value, reason):
    assert reason in validate_label_value(value)
