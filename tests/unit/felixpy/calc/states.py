"""Datastore states and the dataplane view each one must produce (after Felix's
states_for_test.go). The local host is `node1`.

Expected IP set ids are derived here from the selector text Calico would build, written
out by hand (namespace scoping, pcns./pcsa. prefixes, notSelector absorption), so a
mistake in how the graph assembles selectors shows up as a wrong set id.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from libcalico_py.selector import parse
from libcalico_py.selector.selector import make_unique_id

HOST = "node1"
API = "projectcalico.org/v3"


def sel_set(text: str) -> str:
    return parse(text).unique_id()


def port_set(selector_text: str, proto: str, port_name: str) -> str:
    return make_unique_id("n", f"{parse(selector_text).unique_id()},{proto},{port_name}")


# ---------------------------------------------------------------- resource builders


def wep(pod: str, ns: str, node: str, ips, labels=None, profiles=None, ports=None, sa=None) -> dict:
    spec = {"orchestrator": "k8s", "node": node, "pod": pod, "endpoint": "eth0",
            "ipNetworks": list(ips), "interfaceName": f"cali{pod}",
            "profiles": list(profiles if profiles is not None else [f"kns.{ns}"])}
    if ports:
        spec["ports"] = [{"name": n, "protocol": p, "port": num} for n, p, num in ports]
    if sa:
        spec["serviceAccountName"] = sa
    return {"apiVersion": API, "kind": "WorkloadEndpoint",
            "metadata": {"name": f"{node}-k8s-{pod}-eth0", "namespace": ns, "labels": labels or {}},
            "spec": spec}


def ep_name(pod: str, node: str = HOST) -> str:
    return f"{node}-k8s-{pod}-eth0"


def ns_profile(ns: str, labels=None, ingress=None, egress=None) -> dict:
    lta = {"pcns.projectcalico.org/name": ns}
    lta.update({f"pcns.{k}": v for k, v in (labels or {}).items()})
    return {"apiVersion": API, "kind": "Profile", "metadata": {"name": f"kns.{ns}"},
            "spec": {"labelsToApply": lta,
                     "ingress": ingress if ingress is not None else [{"action": "Allow"}],
                     "egress": egress if egress is not None else [{"action": "Allow"}]}}


def np(name: str, ns: str, **spec) -> dict:
    return {"apiVersion": API, "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def gnp(name: str, **spec) -> dict:
    return {"apiVersion": API, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def netset(name: str, ns: str, nets, labels) -> dict:
    return {"apiVersion": API, "kind": "NetworkSet",
            "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": {"nets": list(nets)}}


def gnetset(name: str, nets, labels) -> dict:
    return {"apiVersion": API, "kind": "GlobalNetworkSet",
            "metadata": {"name": name, "labels": labels}, "spec": {"nets": list(nets)}}


# ---------------------------------------------------------------- resources

PROF_NS1 = ns_profile("ns1", {"env": "prod"})
PROF_NS2 = ns_profile("ns2", {"env": "dev"})
EP1 = wep("web1", "ns1", HOST, ["10.0.0.1/32"], {"app": "web"}, ports=[("http", "TCP", 80)])
EP2 = wep("db2", "ns1", HOST, ["10.0.0.2/32"], {"app": "db"}, ports=[("http", "TCP", 5432)])
EP3 = wep("db3", "ns2", "node2", ["10.0.1.3/32"], {"app": "db"}, ports=[("http", "TCP", 8080)])
EP4 = wep("web4", "ns2", HOST, ["10.0.1.4/32", "fd00::4/128"], {"app": "web"})

NP_ALLOW_DB = np("allow-db", "ns1", order=100, selector="app == 'web'", types=["Ingress"],
                 ingress=[{"action": "Allow", "protocol": "TCP",
                           "source": {"selector": "app == 'db'"},
                           "destination": {"ports": [80, "http"]}}])
GNP_DENY_OUT = gnp("deny-out", order=10, selector="all()", types=["Egress"],
                   egress=[{"action": "Deny", "destination": {"notSelector": "app == 'db'"}}])
GNP_WEB_FROM_DEV = gnp("web-from-dev", selector="app == 'web'", types=["Ingress"],
                       ingress=[{"action": "Allow", "source": {"namespaceSelector": "env == 'dev'"}}])
GNP_FROM_EXT = gnp("from-ext", order=5, selector="app == 'web'", types=["Ingress"],
                   ingress=[{"action": "Allow", "source": {"selector": "role == 'ext'"}}])
NETSET_NS2 = netset("ext", "ns2", ["192.168.0.0/24"], {"role": "ext"})
GNETSET = gnetset("ext-global", ["172.16.0.0/12", "192.168.0.0/24"], {"role": "ext"})
ADMIN_PASS = gnp("admin-pass", tier="kube-admin", order=1, selector="all()", types=["Ingress"],
                 ingress=[{"action": "Pass"}])
SECURITY = gnp("security-log", tier="security", selector="all()", types=["Ingress", "Egress"],
               ingress=[{"action": "Log"}], egress=[{"action": "Log"}])
SAME_ORDER_B = np("b-pol", "ns1", order=50, selector="all()", types=["Ingress"],
                  ingress=[{"action": "Allow"}])
SAME_ORDER_A = np("a-pol", "ns1", order=50, selector="all()", types=["Ingress"],
                  ingress=[{"action": "Allow"}])


# ---------------------------------------------------------------- expected ids

SEL_NS1_DB = "(projectcalico.org/namespace == 'ns1') && (app == 'db')"
SET_NS1_DB = sel_set(SEL_NS1_DB)
# The named port is on the destination side, which has no selector: Calico filters it by
# all(), so every endpoint's "http" port is a member.
SET_ALL_HTTP = port_set("all()", "tcp", "http")
ALL_HTTP = {"10.0.0.1,tcp:80", "10.0.0.2,tcp:5432", "10.0.1.3,tcp:8080"}
SET_NOT_DB = sel_set("app == 'db'")
SET_DEV_NS = sel_set("pcns.env == 'dev'")
SET_EXT = sel_set("role == 'ext'")


@dataclass
class State:
    name: str
    resources: list
    policies: set = field(default_factory=set)
    profiles: set = field(default_factory=set)
    ipsets: dict = field(default_factory=dict)
    endpoints: dict = field(default_factory=dict)

    def view(self) -> dict:
        return {"policies": set(self.policies), "profiles": set(self.profiles),
                "ipsets": {k: set(v) for k, v in self.ipsets.items()}, "endpoints": self.endpoints}


def _ep(profiles, *tiers):
    return {"profiles": tuple(profiles), "tiers": tuple(tiers)}


EMPTY = State("empty", [])

ONE_ENDPOINT = State(
    "one local endpoint with its namespace profile",
    [PROF_NS1, EP1],
    profiles={"kns.ns1"},
    endpoints={ep_name("web1"): _ep(["kns.ns1"])},
)

REMOTE_ONLY = State(
    "remote endpoint and policies: nothing is active",
    [PROF_NS2, EP3, NP_ALLOW_DB, GNP_DENY_OUT],
)

ALLOW_DB = State(
    "namespaced policy with selector and named port",
    [PROF_NS1, PROF_NS2, EP1, EP2, EP3, NP_ALLOW_DB],
    policies={"np/ns1/allow-db"},
    profiles={"kns.ns1"},
    ipsets={SET_NS1_DB: {"10.0.0.2/32"}, SET_ALL_HTTP: ALL_HTTP},
    endpoints={
        ep_name("web1"): _ep(["kns.ns1"], ("default", ("np/ns1/allow-db",), ())),
        ep_name("db2"): _ep(["kns.ns1"]),
    },
)

ORDERED = State(
    "order, +inf order, ingress-only vs egress-only, namespaceSelector, notSelector",
    [PROF_NS1, PROF_NS2, EP1, EP2, EP3, EP4, NP_ALLOW_DB, GNP_DENY_OUT, GNP_WEB_FROM_DEV],
    policies={"np/ns1/allow-db", "gnp/deny-out", "gnp/web-from-dev"},
    profiles={"kns.ns1", "kns.ns2"},
    ipsets={SET_NS1_DB: {"10.0.0.2/32"}, SET_ALL_HTTP: ALL_HTTP,
            SET_NOT_DB: {"10.0.0.2/32", "10.0.1.3/32"},
            SET_DEV_NS: {"10.0.1.3/32", "10.0.1.4/32", "fd00::4/128"}},
    endpoints={
        ep_name("web1"): _ep(["kns.ns1"], ("default", ("np/ns1/allow-db", "gnp/web-from-dev"),
                                           ("gnp/deny-out",))),
        ep_name("db2"): _ep(["kns.ns1"], ("default", (), ("gnp/deny-out",))),
        ep_name("web4"): _ep(["kns.ns2"], ("default", ("gnp/web-from-dev",), ("gnp/deny-out",))),
    },
)

NETSETS = State(
    "network sets and endpoints in one selector set",
    [PROF_NS2, EP4, GNP_FROM_EXT, NETSET_NS2, GNETSET,
     wep("ext5", "ns2", "node3", ["10.0.2.5/32"], {"role": "ext"})],
    policies={"gnp/from-ext"},
    profiles={"kns.ns2"},
    ipsets={SET_EXT: {"192.168.0.0/24", "172.16.0.0/12", "10.0.2.5/32"}},
    endpoints={ep_name("web4"): _ep(["kns.ns2"], ("default", ("gnp/from-ext",), ()))},
)

TIERS = State(
    "built-in and unknown tiers, equal order broken by name",
    [PROF_NS1, EP2, ADMIN_PASS, SECURITY, SAME_ORDER_B, SAME_ORDER_A],
    policies={"gnp/admin-pass", "gnp/security-log", "np/ns1/a-pol", "np/ns1/b-pol"},
    profiles={"kns.ns1"},
    endpoints={ep_name("db2"): _ep(
        ["kns.ns1"],
        ("kube-admin", ("gnp/admin-pass",), ()),
        ("default", ("np/ns1/a-pol", "np/ns1/b-pol"), ()),
        ("security", ("gnp/security-log",), ("gnp/security-log",)),
    )},
)

MISSING_PROFILE = State(
    "endpoint naming a profile that does not exist",
    [wep("lonely", "ns9", HOST, ["10.0.9.9/32"])],
    profiles={"kns.ns9"},
    endpoints={ep_name("lonely"): _ep(["kns.ns9"])},
)

SA_PROFILE = {"apiVersion": API, "kind": "Profile", "metadata": {"name": "ksa.ns1.api"},
              "spec": {"labelsToApply": {"pcsa.projectcalico.org/name": "api", "pcsa.role": "backend"}}}
EP_API = wep("api6", "ns1", "node2", ["10.0.0.6/32"], {"app": "api"},
             profiles=["kns.ns1", "ksa.ns1.api"], sa="api")
NP_FROM_SA = np("from-backend-sa", "ns1", selector="app == 'web'", types=["Ingress"],
                ingress=[{"action": "Allow", "source": {"serviceAccounts": {"selector": "role == 'backend'"}}},
                         {"action": "Allow", "source": {"serviceAccounts": {"names": ["api"]}}}])

SERVICE_ACCOUNTS = State(
    "service account selector and names through the ksa. profile",
    [PROF_NS1, SA_PROFILE, EP1, EP_API, NP_FROM_SA],
    policies={"np/ns1/from-backend-sa"},
    profiles={"kns.ns1"},
    ipsets={sel_set("(projectcalico.org/namespace == 'ns1') && (pcsa.role == 'backend')"): {"10.0.0.6/32"},
            sel_set("(projectcalico.org/namespace == 'ns1') && "
                    "(projectcalico.org/serviceaccount in {'api'})"): {"10.0.0.6/32"}},
    endpoints={ep_name("web1"): _ep(["kns.ns1"], ("default", ("np/ns1/from-backend-sa",), ()))},
)

ALL_STATES = [EMPTY, ONE_ENDPOINT, REMOTE_ONLY, ALLOW_DB, ORDERED, NETSETS, TIERS, MISSING_PROFILE,
              SERVICE_ACCOUNTS]
