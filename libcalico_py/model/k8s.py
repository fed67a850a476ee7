"""Kubernetes networking.k8s.io/v1 NetworkPolicy, kept in its Kubernetes form (internal
kind KubernetesNetworkPolicy). `libcalico_py.convert.k8s_policy` turns it into the Calico
policy the agent enforces. No defaults are filled here: the converter applies
Kubernetes' own (protocol TCP, policyTypes [Ingress])."""
from __future__ import annotations

from libcalico_py.model.schema import Converted, F, Int, ListOf, MapOf, Obj, Str, Struct


def _int_or_string(value):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError("expected a port number or name")
    return value


class LabelSelectorRequirement(Struct):
    FIELDS = (F("key", Str(), always=True), F("operator", Str(), always=True),
              F("values", ListOf(Str())))


class LabelSelector(Struct):
    FIELDS = (F("matchLabels", MapOf(Str())),
              F("matchExpressions", ListOf(Obj(LabelSelectorRequirement))))


class IPBlock(Struct):
    FIELDS = (F("cidr", Str(), always=True), F("except", ListOf(Str()), attr="except_"))


class NetworkPolicyPeer(Struct):
    FIELDS = (F("podSelector", Obj(LabelSelector)),
              F("namespaceSelector", Obj(LabelSelector)),
              F("ipBlock", Obj(IPBlock)))


class NetworkPolicyPort(Struct):
    FIELDS = (F("protocol", Str(), ptr=True),
              F("port", Converted(_int_or_string), ptr=True),
              F("endPort", Int(), ptr=True))


class NetworkPolicyIngressRule(Struct):
    FIELDS = (F("ports", ListOf(Obj(NetworkPolicyPort))),
              F("from", ListOf(Obj(NetworkPolicyPeer)), attr="from_"))


class NetworkPolicyEgressRule(Struct):
    FIELDS = (F("ports", ListOf(Obj(NetworkPolicyPort))),
              F("to", ListOf(Obj(NetworkPolicyPeer))))


class KubernetesNetworkPolicySpec(Struct):
    FIELDS = (
        F("podSelector", Obj(LabelSelector), always=True),
        F("ingress", ListOf(Obj(NetworkPolicyIngressRule))),
        F("egress", ListOf(Obj(NetworkPolicyEgressRule))),
        F("policyTypes", ListOf(Str())),
    )
