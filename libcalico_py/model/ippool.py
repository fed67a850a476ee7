"""IPPool spec and the defaults Calico's client fills on create/update
(`libcalico-go/lib/clientv3/ippool.go`): block size 26 (IPv4) / 122 (IPv6),
ipipMode/vxlanMode Never, nodeSelector all(), allowedUses [Workload, Tunnel],
assignmentMode Automatic; the CIDR is written in its canonical form."""
from __future__ import annotations

import ipaddress

from libcalico_py.model.schema import Bool, F, Int, ListOf, Str, Struct

ENCAP_MODES = ("Never", "Always", "CrossSubnet")
ALLOWED_USES = ("Workload", "Tunnel", "LoadBalancer")
ASSIGNMENT_MODES = ("Automatic", "Manual")
DEFAULT_BLOCK_SIZE = {4: 26, 6: 122}


class IPPoolSpec(Struct):
    FIELDS = (
        F("cidr", Str()),
        F("vxlanMode", Str()),
        F("ipipMode", Str()),
        F("natOutgoing", Bool()),
        F("disabled", Bool()),
        F("disableBGPExport", Bool(), attr="disable_bgp_export"),
        F("blockSize", Int()),
        F("nodeSelector", Str()),
        F("namespaceSelector", Str()),
        F("allowedUses", ListOf(Str())),
        F("assignmentMode", Str()),
    )

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
        try:
            return ipaddress.ip_network(self.cidr, strict=False)
        except (TypeError, ValueError):
            return None

    def fill_defaults(self, meta) -> None:
        net = self.network()
        if net is not None and "/" in (self.cidr or ""):
            self.cidr = str(net) if ipaddress.ip_interface(self.cidr).ip == net.network_address \
                else self.cidr
        if not self.block_size and net is not None:
            self.block_size = DEFAULT_BLOCK_SIZE[net.version]
        if not self.ipip_mode:
            self.ipip_mode = "Never"
        if not self.vxlan_mode:
            self.vxlan_mode = "Never"
        if not self.node_selector:
            self.node_selector = "all()"
        if not self.allowed_uses:
            self.allowed_uses = ["Workload", "Tunnel"]
        if not self.assignment_mode:
            self.assignment_mode = "Automatic"
