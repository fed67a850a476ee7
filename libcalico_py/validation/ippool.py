"""IPPool and IPReservation checks (`validateIPPoolSpec` and the client's checks in
`libcalico-go/lib/clientv3/ippool.go`)."""
from __future__ import annotations

from libcalico_py.validation.collector import Collector, one_of
from libcalico_py.validation.net import LINK_LOCAL_V4, LINK_LOCAL_V6, cidr_reason, parse_network
from libcalico_py.validation.policy import check_selector

ENCAP_MODES = ("Never", "Always", "CrossSubnet")
ALLOWED_USES = ("Workload", "Tunnel", "LoadBalancer")
ASSIGNMENT_MODES = ("Automatic", "Manual")
BLOCK_SIZE_RANGE = {4: (20, 32), 6: (116, 128)}


def validate_ippool(errs: Collector, res) -> None:
    spec = res.spec
    net = None
    if not spec.cidr:
        errs.add("spec.cidr", "required field is missing")
    else:
        try:
            net = parse_network(spec.cidr, strict=True)
        except ValueError as exc:
            errs.add("spec.cidr", str(exc), spec.cidr)
            try:
                # Not strictly masked still tells the family and prefix for the checks below.
                net = parse_network(spec.cidr)
            except ValueError:
                net = None
    if net is not None:
        link_local = LINK_LOCAL_V4 if net.version == 4 else LINK_LOCAL_V6
        if net.overlaps(link_local):
            errs.add("spec.cidr", f"IPPool CIDR overlaps with the link-local range {link_local}",
                     spec.cidr)
        lo, hi = BLOCK_SIZE_RANGE[net.version]
        if spec.block_size is not None:
            if not lo <= spec.block_size <= hi:
                errs.add("spec.blockSize", f"block size must be between {lo} and {hi} for an "
                                           f"IPv{net.version} pool", spec.block_size)
            elif net.prefixlen > spec.block_size:
                errs.add("spec.blockSize", f"the pool's prefix length /{net.prefixlen} must not "
                                           f"be longer than the block size {spec.block_size}",
                         spec.block_size)
        if net.version == 6 and spec.ipip_mode not in (None, "Never"):
            errs.add("spec.ipipMode", "IPIP is not supported on an IPv6 pool", spec.ipip_mode)
    for attr, json in (("ipip_mode", "ipipMode"), ("vxlan_mode", "vxlanMode")):
        value = getattr(spec, attr)
        if value:
            errs.check(f"spec.{json}", one_of(value, ENCAP_MODES), value)
    if spec.ipip_mode not in (None, "Never") and spec.vxlan_mode not in (None, "Never"):
        errs.add("spec.vxlanMode", "IPIP and VXLAN cannot both be enabled on one pool",
                 spec.vxlan_mode)
    check_selector(errs, "spec.nodeSelector", spec.node_selector)
    check_selector(errs, "spec.namespaceSelector", spec.namespace_selector)
    uses = spec.allowed_uses or []
    errs.check_each("spec.allowedUses", uses, one_of, ALLOWED_USES)
    if "LoadBalancer" in uses:
        if "Workload" in uses or "Tunnel" in uses:
            errs.add("spec.allowedUses", "LoadBalancer cannot be combined with Workload or "
                                         "Tunnel", uses)
        if spec.ipip_mode not in (None, "Never") or spec.vxlan_mode not in (None, "Never"):
            errs.add("spec.allowedUses", "a LoadBalancer pool cannot use IPIP or VXLAN", uses)
        if spec.disable_bgp_export:
            errs.add("spec.disableBGPExport", "a LoadBalancer pool cannot disable BGP export")
        if spec.node_selector not in (None, "all()"):
            errs.add("spec.nodeSelector", "a LoadBalancer pool needs nodeSelector all()",
                     spec.node_selector)
    if spec.assignment_mode:
        errs.check("spec.assignmentMode", one_of(spec.assignment_mode, ASSIGNMENT_MODES),
                   spec.assignment_mode)


def validate_ipreservation(errs: Collector, res) -> None:
    errs.check_each("spec.reservedCIDRs", res.spec.reserved_cidrs, cidr_reason)
