"""Static chains per table and the hook rules that lead into them (calico.md §5.1, §5.2).

The static chains are the fixed skeleton every node has, whatever its endpoints:

  filter  cali-INPUT        pod -> host traffic goes to cali-wl-to-host; ACCEPT what
                            raw/mangle already accepted
          cali-wl-to-host   pod egress policy (via cali-from-wl-dispatch), then
                            DefaultEndpointToHostAction
          cali-FORWARD      clear marks except accept; -i cali+ -> from-wl dispatch;
                            -o cali+ -> to-wl dispatch
          cali-OUTPUT       ACCEPT already-accepted; host -> local pod is not policed
          cali-failsafe-in / cali-failsafe-out   failsafe ports (host endpoint chains
                            jump here; kept so the layout matches Calico)
  raw     cali-PREROUTING   clear marks; flag traffic from pods (scratch0); strict RPF
                            drop of spoofed pod traffic
          cali-OUTPUT       clear marks
  mangle  cali-PREROUTING   ACCEPT established and already-accepted traffic
          cali-POSTROUTING  RETURN forwarded (accepted) traffic; clear marks
  nat     cali-PREROUTING / cali-OUTPUT -> cali-fip-dnat; cali-POSTROUTING ->
          cali-fip-snat, cali-nat-outgoing (the latter is owned by the masquerade
          manager: see nat.py, it is NOT part of static_chains("nat"))

Host endpoints, IPIP, VXLAN and WireGuard are not rendered: their jumps are left out
rather than pointing at chains nobody programs.

Hooks are the only rules we place in the kernel's own chains: one jump per
(table, kernel chain), inserted at the top, except nat POSTROUTING which is appended
(after kube-proxy's masquerade marking), plus two rules appended at the end of filter
FORWARD that turn the accept mark into ACCEPT and flag forwarded traffic.
"""
from __future__ import annotations

from felixpy.iptables.chain import Chain, Rule
from felixpy.rules import defs
from felixpy.rules import match as m
from felixpy.rules.defs import RulesConfig

ICMPV6_ROUTER_TYPES = (130, 131, 132, 133, 135, 136)


class StaticRenderer:
    def __init__(self, config: RulesConfig):
        self.config = config

    # ------------------------------------------------------------ chains

    def static_chains(self, table: str) -> list[Chain]:
        if table == "filter":
            return [self._filter_input(), self._workload_to_host(), self._filter_forward(),
                    self._filter_output(), self._failsafe_in(), self._failsafe_out()]
        if table == "raw":
            return [self._raw_prerouting(), self._raw_output()]
        if table == "mangle":
            return [self._mangle_prerouting(), self._mangle_postrouting()]
        if table == "nat":
            return [Chain(defs.CHAIN_NAT_PREROUTING, (Rule("", m.jump(defs.CHAIN_FIP_DNAT)),)),
                    Chain(defs.CHAIN_NAT_OUTPUT, (Rule("", m.jump(defs.CHAIN_FIP_DNAT)),)),
                    Chain(defs.CHAIN_NAT_POSTROUTING, (Rule("", m.jump(defs.CHAIN_FIP_SNAT)),
                                                       Rule("", m.jump(defs.CHAIN_NAT_OUTGOING)))),
                    Chain(defs.CHAIN_FIP_DNAT), Chain(defs.CHAIN_FIP_SNAT)]
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(defs.TABLES)}")

    def _workload_ifaces(self) -> list[str]:
        return [prefix + "+" for prefix in self.config.interface_prefixes]

    def _filter_input(self) -> Chain:
        cfg = self.config
        rules = [Rule(m.Match().in_interface(pattern).render(), m.goto(defs.CHAIN_WORKLOAD_TO_HOST))
                 for pattern in self._workload_ifaces()]
        rules.append(Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.ACCEPT))
        return Chain(defs.CHAIN_FILTER_INPUT, tuple(rules))

    def _workload_to_host(self) -> Chain:
        rules: list[Rule] = []
        if self.config.ipv6:
            # A router must let pods do neighbour discovery and MLD, whatever their policy.
            rules.extend(Rule(m.Match().protocol("ipv6-icmp").icmp(t, None, 6).render(), m.ACCEPT)
                         for t in ICMPV6_ROUTER_TYPES)
        rules.append(Rule("", m.jump(defs.CHAIN_FROM_WORKLOAD_DISPATCH)))
        rules.append(Rule("", f"-j {self.config.default_endpoint_to_host_action}",
                          "Configured DefaultEndpointToHostAction"))
        return Chain(defs.CHAIN_WORKLOAD_TO_HOST, tuple(rules))

    def _filter_forward(self) -> Chain:
        cfg = self.config
        # Clear our bits, except accept, which raw/mangle use to pass a verdict on.
        rules = [Rule("", m.clear_mark(cfg.all_marks & ~cfg.mark_accept))]
        for pattern in self._workload_ifaces():
            rules.append(Rule(m.Match().in_interface(pattern).render(),
                              m.jump(defs.CHAIN_FROM_WORKLOAD_DISPATCH)))
            rules.append(Rule(m.Match().out_interface(pattern).render(),
                              m.jump(defs.CHAIN_TO_WORKLOAD_DISPATCH)))
        return Chain(defs.CHAIN_FILTER_FORWARD, tuple(rules))

    def _filter_output(self) -> Chain:
        cfg = self.config
        rules = [Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.ACCEPT)]
        # Host -> local workload is not policed (Calico's pragmatic choice).
        rules.extend(Rule(m.Match().out_interface(pattern).render(), m.RETURN)
                     for pattern in self._workload_ifaces())
        return Chain(defs.CHAIN_FILTER_OUTPUT, tuple(rules))

    def _failsafe_in(self) -> Chain:
        rules = []
        for pp in self.config.failsafe_inbound:
            if pp.net and pp.ip_version() != self.config.ip_version:
                continue
            match = m.Match().protocol(pp.protocol).dest_ports([str(pp.port)])
            if pp.net:
                match.source_net(pp.net)
            rules.append(Rule(match.render(), m.ACCEPT))
        return Chain(defs.CHAIN_FAILSAFE_IN, tuple(rules))

    def _failsafe_out(self) -> Chain:
        rules = []
        for pp in self.config.failsafe_outbound:
            if pp.net and pp.ip_version() != self.config.ip_version:
                continue
            match = m.Match().protocol(pp.protocol).dest_ports([str(pp.port)])
            if pp.net:
                match.dest_net(pp.net)
            rules.append(Rule(match.render(), m.ACCEPT))
        return Chain(defs.CHAIN_FAILSAFE_OUT, tuple(rules))

    def _raw_prerouting(self) -> Chain:
        cfg = self.config
        rules = [Rule("", m.clear_mark(cfg.all_marks))]
        for pattern in self._workload_ifaces():
            rules.append(Rule(m.Match().in_interface(pattern).render(), m.set_mark(cfg.mark_scratch0)))
        if cfg.rpf_check:
            rules.append(Rule(m.Match().mark_single_bit_set(cfg.mark_scratch0).rpfilter_invalid().render(),
                              m.DROP))
        return Chain(defs.CHAIN_RAW_PREROUTING, tuple(rules))

    def _raw_output(self) -> Chain:
        return Chain(defs.CHAIN_RAW_OUTPUT, (Rule("", m.clear_mark(self.config.all_marks)),))

    def _mangle_prerouting(self) -> Chain:
        cfg = self.config
        return Chain(defs.CHAIN_MANGLE_PREROUTING, (
            Rule(m.Match().conntrack_state("RELATED,ESTABLISHED").render(), m.ACCEPT),
            Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.ACCEPT),
        ))

    def _mangle_postrouting(self) -> Chain:
        cfg = self.config
        return Chain(defs.CHAIN_MANGLE_POSTROUTING, (
            Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.RETURN),
            Rule("", m.clear_mark(cfg.all_marks)),
        ))

    # ------------------------------------------------------------ hooks

    def kernel_hooks(self, table: str) -> dict[str, list[Rule]]:
        """Rules inserted at the top of kernel chains: {kernel chain: rules}."""
        hooks = {
            "raw": {"PREROUTING": defs.CHAIN_RAW_PREROUTING, "OUTPUT": defs.CHAIN_RAW_OUTPUT},
            "mangle": {"PREROUTING": defs.CHAIN_MANGLE_PREROUTING, "POSTROUTING": defs.CHAIN_MANGLE_POSTROUTING},
            "filter": {"INPUT": defs.CHAIN_FILTER_INPUT, "FORWARD": defs.CHAIN_FILTER_FORWARD,
                       "OUTPUT": defs.CHAIN_FILTER_OUTPUT},
            "nat": {"PREROUTING": defs.CHAIN_NAT_PREROUTING, "OUTPUT": defs.CHAIN_NAT_OUTPUT},
        }
        if table not in hooks:
            raise ValueError(f"unknown table {table!r}; expected one of {', '.join(defs.TABLES)}")
        return {kernel: [Rule("", m.jump(ours))] for kernel, ours in hooks[table].items()}

    def kernel_hooks_append(self, table: str) -> dict[str, list[Rule]]:
        """Rules appended at the end of kernel chains: {kernel chain: rules}."""
        cfg = self.config
        if table == "filter":
            return {"FORWARD": [
                Rule(m.Match().mark_single_bit_set(cfg.mark_accept).render(), m.ACCEPT,
                     "Policy explicitly accepted packet."),
                # Flags forwarded traffic for mangle POSTROUTING.
                Rule("", m.set_mark(cfg.mark_accept)),
            ]}
        if table == "nat":
            return {"POSTROUTING": [Rule("", m.jump(defs.CHAIN_NAT_POSTROUTING))]}
        if table in ("raw", "mangle"):
            return {}
        raise ValueError(f"unknown table {table!r}; expected one of {', '.join(defs.TABLES)}")
