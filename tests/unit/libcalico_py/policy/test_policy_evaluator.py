"""The policy evaluator, case by case: every branch of Calico's policy semantics, each
asserting the verdict and the rule (or default) that decided each direction.

The cluster is `world.py` (web/db in prod, client in dev, network sets); each case adds
policies, sends one flow and names what egress (at the source) and ingress (at the
destination) decide: ("allow"|"deny", "<kind>/<ns>/<name> <direction> rule <i>" or the
reason of a default).
"""
from __future__ import annotations

import pytest

from libcalico_py.model import load
from libcalico_py.model import parse as parse_doc
from libcalico_py.policy.evaluator import (NO_PROFILE_MATCHED, NOT_POLICED, SAME_ENDPOINT, Cluster,
                                           Flow, RuleRef, evaluate)
from libcalico_py.policy.matching import protocol_number
from tests.unit.libcalico_py.policy.world import (CHAIN, CLIENT, CLIENT6, CORP, DB, EXTERNAL, GATED, GHOST,
                                                  LONELY, PARTNER, WEB, gnp, knp, np, resources)

ALLOW, DENY, LOG, PASS = ({"action": a} for a in ("Allow", "Deny", "Log", "Pass"))
TCP_ALLOW = {"action": "Allow", "protocol": "TCP"}

EG_PROD = ("allow", "pro/kns.prod egress rule 0")
EG_DEV = ("allow", "pro/kns.dev egress rule 0")
IN_PROD = ("allow", "pro/kns.prod ingress rule 0")
IN_DEV = ("allow", "pro/kns.dev ingress rule 0")
UNPOLICED = ("allow", NOT_POLICED)
EOT = ("deny", "end of tier default: no policy passed the packet")
WEB_SEL = "app == 'web'"


def flow(src=CLIENT, dst=WEB, proto="TCP", dport=8080, sport=40000, icmp_type=None, icmp_code=None):
    return Flow(src, dst, proto, dst_port=dport, src_port=sport, icmp_type=icmp_type, icmp_code=icmp_code)


def icmp(src=CLIENT, dst=WEB, t=8, c=0, proto="ICMP"):
    return flow(src, dst, proto, dport=None, sport=None, icmp_type=t, icmp_code=c)


def web_in(*rules, name="x", **spec):
    """An NP in prod selecting web with these ingress rules."""
    return np(name, selector=WEB_SEL, ingress=list(rules), **spec)


def g_in(*rules, name="x", **spec):
    spec.setdefault("selector", WEB_SEL)
    return gnp(name, ingress=list(rules), **spec)


def ok(rule):
    return ("allow", rule)


def no(rule):
    return ("deny", rule)


# (id, extra docs, flow, egress, ingress)
CASES = [
    # ---------------------------------------------------------------- actions
    ("no-policy-profile-allows", [], flow(), EG_DEV, IN_PROD),
    ("allow-rule", [web_in({**TCP_ALLOW, "destination": {"ports": [8080]}})], flow(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("deny-rule-first", [web_in({"action": "Deny", "protocol": "TCP"}, ALLOW)], flow(),
     EG_DEV, no("np/prod/x ingress rule 0")),
    ("pass-goes-to-profiles", [web_in(PASS, DENY)], flow(), EG_DEV, IN_PROD),
    ("pass-skips-rest-of-tier", [web_in(PASS, name="a", order=1), web_in(DENY, name="b", order=2)],
     flow(), EG_DEV, IN_PROD),
    ("log-continues", [web_in(LOG, ALLOW)], flow(), EG_DEV, ok("np/prod/x ingress rule 1")),
    ("log-then-end-of-tier", [web_in(LOG)], flow(), EG_DEV, EOT),
    ("no-match-falls-through", [web_in({"action": "Deny", "protocol": "UDP"}, name="a", order=1),
                                web_in(TCP_ALLOW, name="b", order=2)],
     flow(), EG_DEV, ok("np/prod/b ingress rule 0")),
    ("end-of-tier-no-rules", [np("x", selector=WEB_SEL, types=["Ingress"])], flow(), EG_DEV, EOT),
    ("end-of-tier-no-match", [web_in({"action": "Allow", "protocol": "UDP"})], flow(), EG_DEV, EOT),
    ("policy-not-selecting", [np("x", selector="app == 'db'", ingress=[DENY])], flow(), EG_DEV, IN_PROD),
    # ---------------------------------------------------------------- order
    ("order-lower-first", [web_in(ALLOW, name="a", order=20), web_in(DENY, name="b", order=10)],
     flow(), EG_DEV, no("np/prod/b ingress rule 0")),
    ("order-absent-is-last", [web_in(DENY, name="a"), web_in(ALLOW, name="b", order=100)],
     flow(), EG_DEV, ok("np/prod/b ingress rule 0")),
    ("order-tie-by-name", [web_in(DENY, name="b", order=5), web_in(ALLOW, name="a", order=5)],
     flow(), EG_DEV, ok("np/prod/a ingress rule 0")),
    ("order-across-kinds", [g_in(DENY, name="g", order=5), web_in(ALLOW, name="n", order=6)],
     flow(), EG_DEV, no("gnp/g ingress rule 0")),
    # ---------------------------------------------------------------- types
    ("egress-only-policy-leaves-ingress", [np("x", selector=WEB_SEL, types=["Egress"], egress=[DENY])],
     flow(), EG_DEV, IN_PROD),
    ("egress-policy-at-source", [np("x", selector=WEB_SEL, types=["Egress"],
                                    egress=[{"action": "Deny", "protocol": "TCP",
                                             "destination": {"ports": [5432]}}])],
     flow(WEB, DB, dport=5432), no("np/prod/x egress rule 0"), IN_PROD),
    ("ingress-type-ignores-egress-rules", [np("x", selector=WEB_SEL, types=["Ingress"], ingress=[ALLOW],
                                              egress=[DENY])],
     flow(WEB, DB), EG_PROD, IN_PROD),
    ("egress-end-of-tier", [np("x", selector=WEB_SEL, types=["Egress"],
                               egress=[{"action": "Allow", "protocol": "UDP"}])],
     flow(WEB, DB), EOT, IN_PROD),
    ("defaulted-types-egress-only", [np("x", selector=WEB_SEL, egress=[DENY])],
     flow(WEB, DB), no("np/prod/x egress rule 0"), IN_PROD),
    # ---------------------------------------------------------------- profiles
    ("no-profile", [], flow(CLIENT, LONELY), EG_DEV, ("deny", NO_PROFILE_MATCHED)),
    ("missing-profile-fails-closed", [], flow(CLIENT, GHOST), EG_DEV,
     ("deny", "no policy selected the endpoint: profile missing does not exist (fail closed)")),
    ("profile-fall-through", [], flow(CLIENT, CHAIN), EG_DEV, IN_PROD),
    ("profile-deny", [], flow(CLIENT, CHAIN, "UDP", dport=53), EG_DEV, no("pro/noop ingress rule 0")),
    ("profile-pass-ends-that-profile", [], flow(CHAIN, CLIENT), EG_PROD, IN_DEV),
    # Felix does not clear the pass mark before the profiles: after a tier passed the packet,
    # a profile's first Pass rule ends that profile even when it does not match.
    ("profile-rule-after-unmatched-pass", [], flow(GATED, CLIENT, "UDP", dport=53),
     no("pro/gate egress rule 1"), IN_DEV),
    ("profile-pass-gate-after-tier-pass", [np("x", selector="app == 'gated'", types=["Egress"], egress=[PASS])],
     flow(GATED, CLIENT, "UDP", dport=53), EG_PROD, IN_DEV),
    ("profile-no-gate-after-pass-default-tier",
     [gnp("x", selector="app == 'gated'", tier="kube-admin", types=["Egress"],
          egress=[{"action": "Deny", "protocol": "ICMP"}])],
     flow(GATED, CLIENT, "UDP", dport=53), no("pro/gate egress rule 1"), IN_DEV),
    # ---------------------------------------------------------------- selectors
    ("rule-selector-scoped-to-policy-namespace",
     [web_in({"action": "Allow", "source": {"selector": "app == 'client'"}})], flow(), EG_DEV, EOT),
    ("namespaceSelector", [web_in({"action": "Allow", "source": {"selector": "app == 'client'",
                                                                 "namespaceSelector": "env == 'dev'"}})],
     flow(), EG_DEV, ok("np/prod/x ingress rule 0")),
    ("namespaceSelector-all", [web_in({"action": "Allow", "source": {"namespaceSelector": "all()"}})],
     flow(), EG_DEV, ok("np/prod/x ingress rule 0")),
    ("namespaceSelector-all-not-unknown", [web_in({"action": "Allow", "source": {"namespaceSelector": "all()"}})],
     flow(EXTERNAL), UNPOLICED, EOT),
    ("namespaceSelector-other", [web_in({"action": "Allow", "source": {"selector": "app == 'client'",
                                                                       "namespaceSelector": "env == 'prod'"}})],
     flow(), EG_DEV, EOT),
    ("gnp-rule-selector-unscoped", [g_in({"action": "Allow", "source": {"selector": "app == 'client'"}})],
     flow(), EG_DEV, ok("gnp/x ingress rule 0")),
    ("notSelector-excludes", [g_in({"action": "Allow", "source": {"notSelector": "app == 'db'"}})],
     flow(DB, WEB), EG_PROD, EOT),
    ("notSelector-admits-unknown", [g_in({"action": "Allow", "source": {"notSelector": "app == 'db'"}})],
     flow(EXTERNAL, WEB), UNPOLICED, ok("gnp/x ingress rule 0")),
    ("negated-selector-only-calico", [g_in({"action": "Allow", "source": {"selector": "app != 'db'"}})],
     flow(EXTERNAL, WEB), UNPOLICED, EOT),
    ("negated-selector-calico-endpoint", [g_in({"action": "Allow", "source": {"selector": "app != 'db'"}})],
     flow(), EG_DEV, ok("gnp/x ingress rule 0")),
    ("np-notSelector-is-namespace-scoped", [web_in({"action": "Allow", "source": {"notSelector": "app == 'db'"}})],
     flow(), EG_DEV, EOT),
    ("np-notSelector-own-namespace", [web_in({"action": "Allow", "source": {"notSelector": "app == 'db'"}})],
     flow(CHAIN, WEB), EG_PROD, ok("np/prod/x ingress rule 0")),
    ("serviceAccounts-names", [g_in({"action": "Allow", "source": {"serviceAccounts": {"names": ["client"]}}})],
     flow(), EG_DEV, ok("gnp/x ingress rule 0")),
    ("serviceAccounts-other-name", [g_in({"action": "Allow", "source": {"serviceAccounts": {"names": ["web"]}}})],
     flow(), EG_DEV, EOT),
    ("policy-namespaceSelector", [gnp("x", namespaceSelector="env == 'dev'", types=["Egress"], egress=[DENY])],
     flow(), no("gnp/x egress rule 0"), IN_PROD),
    ("policy-namespaceSelector-other-ns", [gnp("x", namespaceSelector="env == 'dev'", types=["Egress"],
                                               egress=[DENY])],
     flow(WEB, DB), EG_PROD, IN_PROD),
    ("networkset-selector", [web_in({"action": "Allow", "source": {"selector": "role == 'partner'"}})],
     flow(PARTNER), UNPOLICED, ok("np/prod/x ingress rule 0")),
    ("globalnetworkset-not-in-namespace", [web_in({"action": "Allow", "source": {"selector": "role == 'corp'"}})],
     flow(CORP), UNPOLICED, EOT),
    ("globalnetworkset-gnp", [g_in({"action": "Allow", "source": {"selector": "role == 'corp'"}})],
     flow(CORP), UNPOLICED, ok("gnp/x ingress rule 0")),
    ("namespaceSelector-global", [web_in({"action": "Allow", "source": {"namespaceSelector": "global()",
                                                                        "selector": "role == 'corp'"}})],
     flow(CORP), UNPOLICED, ok("np/prod/x ingress rule 0")),
    ("destination-selector-egress", [np("x", selector=WEB_SEL, types=["Egress"],
                                        egress=[{"action": "Allow", "destination": {"selector": "app == 'db'"}}])],
     flow(WEB, DB), ok("np/prod/x egress rule 0"), IN_PROD),
    # ---------------------------------------------------------------- nets
    ("nets", [g_in({"action": "Allow", "source": {"nets": ["10.0.2.0/24"]}})], flow(),
     EG_DEV, ok("gnp/x ingress rule 0")),
    ("nets-miss", [g_in({"action": "Allow", "source": {"nets": ["10.0.2.0/24"]}})], flow(DB, WEB),
     EG_PROD, EOT),
    ("notNets-excludes", [g_in({"action": "Allow", "source": {"notNets": ["10.0.2.0/24"]}})], flow(),
     EG_DEV, EOT),
    ("notNets-admits", [g_in({"action": "Allow", "source": {"notNets": ["10.0.2.0/24"]}})], flow(DB, WEB),
     EG_PROD, ok("gnp/x ingress rule 0")),
    ("destination-nets", [gnp("x", selector=WEB_SEL, types=["Egress"],
                              egress=[{"action": "Allow", "destination": {"nets": ["8.8.8.0/24"]}}])],
     flow(WEB, EXTERNAL), ok("gnp/x egress rule 0"), UNPOLICED),
    ("v6-only-notNets-skipped-in-v4", [g_in({"action": "Allow", "source": {"notNets": ["fd00::/8"]}})],
     flow(), EG_DEV, EOT),
    # ---------------------------------------------------------------- ports
    ("port-range-hit", [web_in({**TCP_ALLOW, "destination": {"ports": ["8000:8100"]}})], flow(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("port-range-miss", [web_in({**TCP_ALLOW, "destination": {"ports": ["8000:8100"]}})], flow(dport=8200),
     EG_DEV, EOT),
    ("named-port", [web_in({**TCP_ALLOW, "destination": {"ports": ["http"]}})], flow(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("named-port-other-number", [web_in({**TCP_ALLOW, "destination": {"ports": ["http"]}})],
     flow(dport=9090), EG_DEV, EOT),
    ("named-port-resolved-on-target", [gnp("x", selector="all()",
                                           ingress=[{**TCP_ALLOW, "destination": {"ports": ["http"]}}])],
     flow(CLIENT, DB), EG_DEV, EOT),
    ("named-port-udp", [web_in({"action": "Allow", "protocol": "UDP", "destination": {"ports": ["dns"]}})],
     flow(proto="UDP", dport=53), EG_DEV, ok("np/prod/x ingress rule 0")),
    ("named-port-protocol-mismatch", [web_in({**TCP_ALLOW, "destination": {"ports": ["dns"]}})],
     flow(dport=53), EG_DEV, EOT),
    ("named-port-no-protocol-means-tcp", [web_in({"action": "Allow", "destination": {"ports": ["http"]}})],
     flow(), EG_DEV, ok("np/prod/x ingress rule 0")),
    ("named-port-no-protocol-not-udp", [web_in({"action": "Allow", "destination": {"ports": ["dns"]}})],
     flow(proto="UDP", dport=53), EG_DEV, EOT),
    ("ports-numeric-or-named", [web_in({**TCP_ALLOW, "destination": {"ports": [80, "http"]}})], flow(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("notPorts-excludes", [web_in({**TCP_ALLOW, "destination": {"notPorts": [9090]}})], flow(dport=9090),
     EG_DEV, EOT),
    ("notPorts-admits", [web_in({**TCP_ALLOW, "destination": {"notPorts": [9090]}})], flow(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("notPorts-named", [web_in({**TCP_ALLOW, "destination": {"notPorts": ["metrics"]}})], flow(dport=9090),
     EG_DEV, EOT),
    ("source-port-range", [web_in({**TCP_ALLOW, "source": {"ports": ["40000:40010"]}})], flow(sport=40005),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("source-port-range-miss", [web_in({**TCP_ALLOW, "source": {"ports": ["40000:40010"]}})],
     flow(sport=50000), EG_DEV, EOT),
    ("ports-not-for-icmp", [web_in({**TCP_ALLOW, "destination": {"ports": [8]}})], icmp(), EG_DEV, EOT),
    # ---------------------------------------------------------------- ICMP and protocols
    ("icmp-type", [web_in({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8}})], icmp(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("icmp-type-miss", [web_in({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 8}})], icmp(t=0),
     EG_DEV, EOT),
    ("icmp-type-code", [web_in({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 3, "code": 4}})],
     icmp(t=3, c=4), EG_DEV, ok("np/prod/x ingress rule 0")),
    ("icmp-code-miss", [web_in({"action": "Allow", "protocol": "ICMP", "icmp": {"type": 3, "code": 4}})],
     icmp(t=3, c=3), EG_DEV, EOT),
    ("notICMP-excludes", [web_in({"action": "Allow", "protocol": "ICMP", "notICMP": {"type": 8}})], icmp(),
     EG_DEV, EOT),
    ("notICMP-admits", [web_in({"action": "Allow", "protocol": "ICMP", "notICMP": {"type": 8}})], icmp(t=0),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("icmp-rule-not-tcp", [web_in({"action": "Allow", "protocol": "ICMP"})], flow(), EG_DEV, EOT),
    ("icmpv6-rule-not-v4", [web_in({"action": "Allow", "protocol": "ICMPv6"})], icmp(proto=58), EG_DEV, EOT),
    ("protocol-number-in-rule", [web_in({"action": "Allow", "protocol": 6})], flow(),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("protocol-number-in-flow", [web_in({"action": "Allow", "protocol": "UDP"})], flow(proto=17, dport=53),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("protocol-without-name", [web_in({"action": "Allow", "protocol": 47})], flow(proto=47, dport=None),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    ("notProtocol-excludes", [web_in({"action": "Allow", "notProtocol": "TCP"})], flow(), EG_DEV, EOT),
    ("notProtocol-admits", [web_in({"action": "Allow", "notProtocol": "TCP"})], flow(proto="udp"),
     EG_DEV, ok("np/prod/x ingress rule 0")),
    # ---------------------------------------------------------------- IP versions
    ("ipVersion-6-rule-not-v4", [g_in({"action": "Allow", "ipVersion": 6})], flow(), EG_DEV, EOT),
    ("ipv6-flow", [gnp("x", selector="app == 'v6'", ingress=[{"action": "Allow", "ipVersion": 6,
                                                            "source": {"nets": ["fd00::/64"]}}])],
     flow("fd00::99", CLIENT6), UNPOLICED, ok("gnp/x ingress rule 0")),
    ("v4-nets-rule-not-v6", [gnp("x", selector="app == 'v6'",
                                 ingress=[{"action": "Allow", "source": {"nets": ["10.0.0.0/8"]}}])],
     flow("fd00::99", CLIENT6), UNPOLICED, EOT),
    # ---------------------------------------------------------------- special cases
    ("same-endpoint-loopback", [web_in(DENY)], flow(WEB, WEB), ("allow", SAME_ENDPOINT),
     ("allow", SAME_ENDPOINT)),
    ("neither-side-a-workload", [gnp("x", selector="all()", ingress=[DENY], egress=[DENY])],
     flow(EXTERNAL, CORP), UNPOLICED, UNPOLICED),
    ("doNotTrack-not-for-workloads", [g_in(DENY, doNotTrack=True, applyOnForward=True)], flow(),
     EG_DEV, IN_PROD),
    ("preDNAT-not-for-workloads", [g_in(DENY, preDNAT=True, applyOnForward=True)], flow(), EG_DEV, IN_PROD),
    # ---------------------------------------------------------------- tiers
    ("pass-default-tier-falls-through", [g_in({"action": "Allow", "protocol": "UDP"}, tier="kube-admin")],
     flow(), EG_DEV, IN_PROD),
    ("kube-admin-before-default", [g_in(DENY, name="admin", tier="kube-admin", order=1000),
                                   web_in(ALLOW, name="a", order=1)],
     flow(), EG_DEV, no("gnp/admin ingress rule 0")),
    ("pass-to-next-tier", [g_in(PASS, name="admin", tier="kube-admin"), web_in(DENY, name="a")],
     flow(), EG_DEV, no("np/prod/a ingress rule 0")),
    ("custom-tier-denies-at-end", [g_in({"action": "Allow", "protocol": "UDP"}, tier="security")],
     flow(), EG_DEV, ("deny", "end of tier security: no policy passed the packet")),
    # ---------------------------------------------------------------- Kubernetes NetworkPolicy
    ("knp-default-deny", [knp("deny", policyTypes=["Ingress"])], flow(), EG_DEV, EOT),
    ("knp-pod-and-namespace-selector",
     [knp("k", podSelector={"matchLabels": {"app": "web"}},
          ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"env": "dev"}},
                              "podSelector": {"matchLabels": {"app": "client"}}}],
                    "ports": [{"port": 8080}]}])],
     flow(), EG_DEV, ok("knp/prod/k ingress rule 0")),
    ("knp-podSelector-own-namespace",
     [knp("k", ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "client"}}}]}])],
     flow(), EG_DEV, EOT),
    ("knp-podSelector-same-namespace",
     [knp("k", ingress=[{"from": [{"podSelector": {"matchExpressions": [
         {"key": "app", "operator": "In", "values": ["db", "x"]}]}}]}])],
     flow(DB, WEB), EG_PROD, ok("knp/prod/k ingress rule 0")),
    ("knp-empty-namespaceSelector-all-namespaces", [knp("k", ingress=[{"from": [{"namespaceSelector": {}}]}])],
     flow(), EG_DEV, ok("knp/prod/k ingress rule 0")),
    ("knp-namespaceSelector-not-external", [knp("k", ingress=[{"from": [{"namespaceSelector": {}}]}])],
     flow(EXTERNAL), UNPOLICED, EOT),
    ("knp-ipBlock-except-excludes",
     [knp("k", ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.2.0/24"]}}]}])],
     flow(), EG_DEV, EOT),
    ("knp-ipBlock-admits",
     [knp("k", ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.0.2.0/24"]}}]}])],
     flow(DB, WEB), EG_PROD, ok("knp/prod/k ingress rule 0")),
    ("knp-ipBlock-outside", [knp("k", ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}])],
     flow(EXTERNAL), UNPOLICED, EOT),
    ("knp-endPort", [knp("k", ingress=[{"ports": [{"port": 8000, "endPort": 8100}]}])], flow(),
     EG_DEV, ok("knp/prod/k ingress rule 0")),
    ("knp-endPort-miss", [knp("k", ingress=[{"ports": [{"port": 8000, "endPort": 8100}]}])],
     flow(dport=8101), EG_DEV, EOT),
    ("knp-named-port", [knp("k", ingress=[{"ports": [{"port": "http"}]}])], flow(),
     EG_DEV, ok("knp/prod/k ingress rule 0")),
    ("knp-port-udp", [knp("k", ingress=[{"ports": [{"protocol": "UDP", "port": 53}]}])],
     flow(proto="UDP", dport=53), EG_DEV, ok("knp/prod/k ingress rule 0")),
    ("knp-port-defaults-to-tcp", [knp("k", ingress=[{"ports": [{"port": 53}]}])],
     flow(proto="UDP", dport=53), EG_DEV, EOT),
    ("knp-second-protocol-rule", [knp("k", ingress=[{"ports": [{"protocol": "UDP", "port": 53},
                                                               {"protocol": "TCP", "port": 8080}]}])],
     flow(), EG_DEV, ok("knp/prod/k ingress rule 0")),
    ("knp-second-protocol-rule-udp", [knp("k", ingress=[{"ports": [{"protocol": "UDP", "port": 53},
                                                                   {"protocol": "TCP", "port": 8080}]}])],
     flow(proto="UDP", dport=53), EG_DEV, ok("knp/prod/k ingress rule 1")),
    ("knp-no-policyTypes-ignores-egress",
     [knp("k", podSelector={"matchLabels": {"app": "web"}},
          egress=[{"to": [{"ipBlock": {"cidr": "1.2.3.4/32"}}]}])],
     flow(WEB, DB), EG_PROD, IN_PROD),
    ("knp-no-policyTypes-means-ingress",
     [knp("k", podSelector={"matchLabels": {"app": "web"}},
          egress=[{"to": [{"ipBlock": {"cidr": "1.2.3.4/32"}}]}])],
     flow(), EG_DEV, EOT),
    ("knp-egress",
     [knp("k", podSelector={"matchLabels": {"app": "web"}}, policyTypes=["Egress"],
          egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])],
     flow(WEB, DB), ok("knp/prod/k egress rule 0"), IN_PROD),
    ("knp-egress-denies-others",
     [knp("k", podSelector={"matchLabels": {"app": "web"}}, policyTypes=["Egress"],
          egress=[{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}])],
     flow(WEB, CLIENT), EOT, IN_DEV),
    ("knp-empty-rule-allows-all", [knp("k", ingress=[{}])], flow(EXTERNAL), UNPOLICED,
     ok("knp/prod/k ingress rule 0")),
    ("knp-after-lower-order-np", [knp("k", ingress=[{}]), web_in(DENY, name="z", order=100)], flow(),
     EG_DEV, no("np/prod/z ingress rule 0")),
    ("knp-before-higher-order-np", [knp("k", ingress=[{}]), web_in(DENY, name="a", order=2000)], flow(),
     EG_DEV, ok("knp/prod/k ingress rule 0")),
]


@pytest.mark.parametrize("docs, fl, egress, ingress", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verdict_and_deciding_rule(docs, fl, egress, ingress):
    v = evaluate(Cluster.from_resources(resources(docs)), fl)
    assert (v.egress.action, str(v.egress.by)) == egress
    assert (v.ingress.action, str(v.ingress.by)) == ingress
    assert v.allowed == (egress[0] == "allow" and ingress[0] == "allow")


def test_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_deciding_rule_is_structured():
    v = evaluate(Cluster.from_resources(resources([web_in(ALLOW, name="web")])), flow())
    assert v.ingress.rule == RuleRef("policy", "default", "np", "prod", "web", "ingress", 0)
    assert v.ingress.reason == "allowed by np/prod/web ingress rule 0"
    assert v.egress.rule == RuleRef("profile", "", "pro", "", "kns.dev", "egress", 0)
    assert v.egress.reason == "no policy selected the endpoint: profile kns.dev allowed"
    assert str(v).startswith("allowed; egress: allow (pro/kns.dev egress rule 0)")


def test_profile_after_pass_says_so():
    v = evaluate(Cluster.from_resources(resources([web_in(PASS)])), flow())
    assert v.ingress.reason == "policies passed the packet: profile kns.prod allowed"


def test_log_rules_are_reported():
    v = evaluate(Cluster.from_resources(resources([web_in(LOG, {**LOG, "protocol": "UDP"}, ALLOW),
                                                   web_in(LOG, name="y", order=1000)])), flow())
    assert [str(r) for r in v.ingress.logged] == ["np/prod/y ingress rule 0", "np/prod/x ingress rule 0"]
    assert str(v.ingress.by) == "np/prod/x ingress rule 2"


def test_deny_at_source_still_reports_destination():
    docs = [np("x", selector=WEB_SEL, types=["Egress"], egress=[DENY])]
    v = evaluate(Cluster.from_resources(resources(docs)), flow(WEB, DB))
    assert not v.allowed
    assert str(v.egress.by) == "np/prod/x egress rule 0"
    assert v.ingress == evaluate(Cluster.from_resources(resources()), flow(WEB, DB)).ingress


@pytest.mark.parametrize("fl, blocked", [
    (flow(WEB, DB, "UDP", dport=4789), True),
    (flow(WEB, DB, 4, dport=None), True),
    (flow(WEB, DB, "UDP", dport=4790), False),
])
def test_vxlan_and_ipip_from_workloads(fl, blocked):
    permissive = evaluate(Cluster.from_resources(resources(), allow_vxlan_from_workloads=True,
                                                 allow_ipip_from_workloads=True), fl)
    assert permissive.allowed
    # Felix's defaults (AllowVXLAN/IPIPPacketsFromWorkloads false) drop encapsulated traffic.
    v = evaluate(Cluster.from_resources(resources()), fl)
    assert v.allowed == (not blocked)
    assert v.ingress == permissive.ingress
    if blocked:
        assert v.egress.rule is None and "from workloads are dropped" in v.egress.reason


def test_namespace_labels_come_from_profile():
    # The namespace label reaches the endpoint through kns.prod's labelsToApply, and a user
    # label with the reserved prefix on the endpoint itself is ignored.
    docs = [gnp("x", selector="pcns.env == 'prod' && projectcalico.org/namespace == 'prod'",
                ingress=[DENY])]
    res = resources(docs)
    assert str(evaluate(Cluster.from_resources(res), flow()).ingress.by) == "gnp/x ingress rule 0"
    assert str(evaluate(Cluster.from_resources(res), flow(WEB, CLIENT)).ingress.by) == "pro/kns.dev ingress rule 0"


def test_endpoint_without_addresses_is_not_a_workload():
    doc = {"apiVersion": "projectcalico.org/v3", "kind": "WorkloadEndpoint",
           "metadata": {"name": "node1-k8s-empty-eth0", "namespace": "prod"},
           "spec": {"orchestrator": "k8s", "node": "node1", "pod": "empty", "endpoint": "eth0",
                    "profiles": []}}
    cluster = Cluster.from_resources(resources() + [load(doc)])
    assert len(cluster.endpoints) == len(Cluster.from_resources(resources()).endpoints)


def test_k8s_rule_that_does_not_convert_is_dropped():
    # Calico drops the rule (port out of range) and keeps the rest of the policy.
    bad = parse_doc(knp("bad", ingress=[{"ports": [{"protocol": "UDP", "port": 70000}]}, {"from": [
        {"ipBlock": {"cidr": "10.0.1.0/24"}}]}]))
    v = evaluate(Cluster.from_resources(resources() + [bad]), flow(proto="UDP", dport=53))
    assert (v.ingress.action, str(v.ingress.by)) == EOT
    v = evaluate(Cluster.from_resources(resources() + [bad]), flow(DB, WEB))
    assert str(v.ingress.by) == "knp/prod/bad ingress rule 0"


def test_protocol_numbers():
    assert [protocol_number(p) for p in ("TCP", "udp", "ICMPv6", "sctp", "UDPLite", 6, "47")] == \
        [6, 17, 58, 132, 136, 6, 47]
    for bad in ("gre", 300, True):
        with pytest.raises(ValueError):
            protocol_number(bad)


def test_mixed_families_are_rejected():
    with pytest.raises(ValueError, match="mixes IPv4 and IPv6"):
        evaluate(Cluster.from_resources(resources()), flow(CLIENT, CLIENT6))


def test_missing_entity_rule_matches_everything():
    from libcalico_py.policy.matching import Side, compile_side
    assert compile_side(None, "prod") == Side()
