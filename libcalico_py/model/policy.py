"""NetworkPolicy and GlobalNetworkPolicy specs, and the Rule/EntityRule types that
Profiles share.

Field tables follow `api/pkg/apis/projectcalico/v3/policy_common.go`: a Rule's `source`
and `destination` are plain structs in Go, so they are always written (as `{}` when
empty), exactly as calicoctl prints them. Defaulting follows
`api/pkg/defaults/networkpolicy.go`: tier `default`, `types` from the rules present, and
the `projectcalico.org/tier` label.
"""
from __future__ import annotations

from libcalico_py.model.schema import (Bool, Converted, F, Float, Int, ListOf, MapOf, Obj,
                                        Str, Struct)
from libcalico_py.validation.ports import parse_port, parse_protocol

DEFAULT_TIER = "default"
TIER_LABEL = "projectcalico.org/tier"
INGRESS, EGRESS = "Ingress", "Egress"

Port = Converted(parse_port)
Protocol = Converted(parse_protocol)


class ICMPFields(Struct):
    FIELDS = (F("type", Int(), ptr=True), F("code", Int(), ptr=True))


class HTTPPath(Struct):
    FIELDS = (F("exact", Str()), F("prefix", Str()))


class HTTPMatch(Struct):
    FIELDS = (F("methods", ListOf(Str())), F("paths", ListOf(Obj(HTTPPath))))


class ServiceAccountMatch(Struct):
    FIELDS = (F("names", ListOf(Str())), F("selector", Str()))


class ServiceMatch(Struct):
    FIELDS = (F("name", Str()), F("namespace", Str()))


class EntityRule(Struct):
    FIELDS = (
        F("nets", ListOf(Str())),
        F("selector", Str()),
        F("namespaceSelector", Str()),
        F("ports", ListOf(Port)),
        F("notNets", ListOf(Str())),
        F("notSelector", Str()),
        F("notPorts", ListOf(Port)),
        F("serviceAccounts", Obj(ServiceAccountMatch)),
        F("services", Obj(ServiceMatch)),
    )


class RuleMetadata(Struct):
    FIELDS = (F("annotations", MapOf(Str())),)


class Rule(Struct):
    FIELDS = (
        F("action", Str()),
        F("ipVersion", Int(), ptr=True),
        F("protocol", Protocol),
        F("icmp", Obj(ICMPFields)),
        F("notProtocol", Protocol),
        F("notICMP", Obj(ICMPFields), attr="not_icmp"),
        F("source", Obj(EntityRule), always=True),
        F("destination", Obj(EntityRule), always=True),
        F("http", Obj(HTTPMatch)),
        F("metadata", Obj(RuleMetadata)),
    )

    def _fill_missing(self):
        if self.source is None:
            self.source = EntityRule()
        if self.destination is None:
            self.destination = EntityRule()


RULES = ListOf(Obj(Rule))


def default_types(ingress: list | None, egress: list | None) -> list[str]:
    """Calico-native `types` defaulting: egress rules without ingress rules -> Egress;
    both -> Ingress, Egress; otherwise (including no rules at all) -> Ingress."""
    has_in, has_out = bool(ingress), bool(egress)
    if has_out and not has_in:
        return [EGRESS]
    if has_out and has_in:
        return [INGRESS, EGRESS]
    return [INGRESS]


class _PolicySpecBase(Struct):
    def fill_defaults(self, meta) -> None:
        if not self.tier:
            self.tier = DEFAULT_TIER
        if not self.types:
            self.types = default_types(self.ingress, self.egress)
        meta.labels[TIER_LABEL] = self.tier


_COMMON = (
    F("tier", Str()),
    F("order", Float(), ptr=True),
    F("ingress", RULES),
    F("egress", RULES),
    F("selector", Str()),
    F("types", ListOf(Str())),
    F("serviceAccountSelector", Str()),
    F("performanceHints", ListOf(Str())),
)


class NetworkPolicySpec(_PolicySpecBase):
    FIELDS = _COMMON


class GlobalNetworkPolicySpec(_PolicySpecBase):
    FIELDS = _COMMON + (
        F("doNotTrack", Bool()),
        F("preDNAT", Bool(), attr="pre_dnat"),
        F("applyOnForward", Bool()),
        F("namespaceSelector", Str()),
    )
