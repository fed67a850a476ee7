"""Effective labels of an endpoint, and the translation of namespace and
service-account selectors into selectors over those labels.

This is the single place where the agent and the CLI decide which labels a policy
selector sees. Calico's rules (libcalico-go `clientv3/workloadendpoint.go`,
`backend/k8s/conversion`, Felix's label inheritance, `updateprocessors/rules.go`):

- An endpoint inherits each of its profiles' `labelsToApply`; its own labels win, and
  among profiles the first one listed wins.
- Workload endpoints carry `projectcalico.org/namespace` and
  `projectcalico.org/orchestrator`, set by Calico and overriding whatever the user put
  there, and `projectcalico.org/serviceaccount` when the pod has a service account.
- A Kubernetes namespace is the profile `kns.<ns>` whose labelsToApply are the
  namespace's labels prefixed `pcns.` plus `pcns.projectcalico.org/name: <ns>`; a
  service account is the profile `ksa.<ns>.<sa>` with the prefix `pcsa.`. A user may not
  set `pcns.`/`pcsa.` labels on an endpoint directly (Felix strips them), or a pod could
  pretend to live in another namespace.
- A namespaceSelector is rewritten by prefixing every label with `pcns.`, `all()`
  becoming `has(projectcalico.org/namespace)` (any namespaced endpoint) and `global()`
  becoming `!has(projectcalico.org/namespace)` (only non-namespaced ones). Calico does
  the last two by replacing text in the canonical string; we replace tree nodes, which
  gives the same result without also rewriting a quoted value that reads "all()".
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from libcalico_py.selector import ast
from libcalico_py.selector.parser import parse
from libcalico_py.selector.selector import Selector

LABEL_NAMESPACE = "projectcalico.org/namespace"
LABEL_ORCHESTRATOR = "projectcalico.org/orchestrator"
LABEL_SERVICE_ACCOUNT = "projectcalico.org/serviceaccount"
LABEL_NAME = "projectcalico.org/name"
NAMESPACE_LABEL_PREFIX = "pcns."
SERVICE_ACCOUNT_LABEL_PREFIX = "pcsa."
NAMESPACE_PROFILE_PREFIX = "kns."
SERVICE_ACCOUNT_PROFILE_PREFIX = "ksa."
_RESERVED_PREFIXES = (NAMESPACE_LABEL_PREFIX, SERVICE_ACCOUNT_LABEL_PREFIX)


def effective_labels(
    own_labels: Optional[Mapping[str, str]],
    profile_labels: Sequence[Optional[Mapping[str, str]]] = (),
    namespace: Optional[str] = None,
    orchestrator: Optional[str] = None,
    service_account: Optional[str] = None,
) -> dict[str, str]:
    """The labels selectors are evaluated against for one endpoint.

    `profile_labels` holds each profile's labelsToApply in the order of the endpoint's
    `profiles` (None or {} for a profile without labels or not yet known).
    `namespace`/`orchestrator`/`service_account` are None for endpoints without them
    (host endpoints, network sets)."""
    result: dict[str, str] = {}
    for labels in reversed(profile_labels):
        if labels:
            result.update(labels)
    if own_labels:
        for key, value in own_labels.items():
            if not key.startswith(_RESERVED_PREFIXES):
                result[key] = value
    if namespace is not None:
        result[LABEL_NAMESPACE] = namespace
    if orchestrator is not None:
        result[LABEL_ORCHESTRATOR] = orchestrator
    if service_account:
        result[LABEL_SERVICE_ACCOUNT] = service_account
    return result


def namespace_labels_for_selector(ns_labels: Optional[Mapping[str, str]], ns_name: str) -> dict[str, str]:
    """The labelsToApply of the namespace profile `kns.<ns_name>`."""
    return _prefixed_labels(ns_labels, ns_name, NAMESPACE_LABEL_PREFIX)


def service_account_labels_for_selector(sa_labels: Optional[Mapping[str, str]], sa_name: str) -> dict[str, str]:
    """The labelsToApply of the service-account profile `ksa.<ns>.<sa_name>`."""
    return _prefixed_labels(sa_labels, sa_name, SERVICE_ACCOUNT_LABEL_PREFIX)


def _prefixed_labels(labels: Optional[Mapping[str, str]], name: str, prefix: str) -> dict[str, str]:
    out = {prefix + k: v for k, v in (labels or {}).items()}
    out[prefix + LABEL_NAME] = name
    return out


def namespace_profile_name(namespace: str) -> str:
    return NAMESPACE_PROFILE_PREFIX + namespace


def service_account_profile_name(namespace: str, service_account: str) -> str:
    return f"{SERVICE_ACCOUNT_PROFILE_PREFIX}{namespace}.{service_account}"


def _namespace_scope(node: ast.Node) -> Optional[ast.Node]:
    if type(node) is ast.All:
        return ast.Has(LABEL_NAMESPACE)
    if type(node) is ast.Global:
        return ast.Not(ast.Has(LABEL_NAMESPACE))
    return None


def namespace_selector_to_label_selector(text: str) -> str:
    """A namespaceSelector as a selector over endpoint labels (canonical text).
    Raises SelectorError if `text` does not parse."""
    prefixed = ast.map_labels(parse(text).root, lambda k: NAMESPACE_LABEL_PREFIX + k)
    return ast.canonical(ast.replace_nodes(prefixed, _namespace_scope))


def service_account_selector_to_label_selector(text: str) -> str:
    """A serviceAccountSelector (or serviceAccounts.selector) as a selector over
    endpoint labels: every key prefixed `pcsa.` (canonical text)."""
    return str(parse(text).with_label_prefix(SERVICE_ACCOUNT_LABEL_PREFIX))


def service_accounts_to_label_selector(selector: Optional[str], names: Sequence[str] = ()) -> str:
    """An EntityRule's `serviceAccounts: {names, selector}` as one selector; "" when
    both are empty. Names become `projectcalico.org/serviceaccount in {...}`, AND-ed
    with the prefixed selector, as Calico's `parseServiceAccounts` writes it."""
    updated = service_account_selector_to_label_selector(selector) if selector else ""
    if not names:
        return updated
    in_names = str(Selector(ast.LabelSetOp(False, LABEL_SERVICE_ACCOUNT, tuple(sorted(set(names))))))
    return f"({updated}) && ({in_names})" if updated else in_names


def entity_rule_selector(
    selector: Optional[str] = None,
    not_selector: Optional[str] = None,
    namespace_selector: Optional[str] = None,
    service_account_selector: Optional[str] = None,
    service_account_names: Sequence[str] = (),
    policy_namespace: Optional[str] = None,
) -> str:
    """The selector text Calico derives for an EntityRule's `selector` side
    (`GetEntityRuleSelector`): the rule's selector and service accounts, restricted to
    the selected namespaces, or to the policy's own namespace for a namespaced policy,
    as soon as any selector field is used. "" means "no selector". The result is text
    that parses; take `str(parse(result))` for the canonical form / ipset id.
    `not_selector` only matters for whether namespace scoping applies; the rule's
    notSelector itself is matched separately (and unscoped), as in Calico."""
    ns_sel = ""
    if namespace_selector:
        ns_sel = namespace_selector_to_label_selector(namespace_selector)
    elif policy_namespace:
        ns_sel = f"{LABEL_NAMESPACE} == '{policy_namespace}'"
    parts = []
    sa_sel = service_accounts_to_label_selector(service_account_selector, service_account_names) \
        if (service_account_selector or service_account_names) else ""
    if sa_sel:
        parts.append(sa_sel)
    if selector:
        parts.append(selector)
    combined = ""
    if len(parts) == 1:
        combined = parts[0]
    elif parts:
        combined = "(" + ") && (".join(parts) + ")"
    if ns_sel and (combined or not_selector or namespace_selector):
        combined = f"({ns_sel}) && ({combined})" if combined else ns_sel
    return combined
