"""Table: the desired -> diff -> apply driver for one iptables table (filter, raw, mangle, nat).

Managers set desired state in memory (`update_chain`, `remove_chain`, `set_hook_rules`); nothing
touches the kernel until `apply()`. What the kernel holds is read back only on the first apply,
after `queue_resync()` (refresh timer) and after a failed write; otherwise the driver trusts its
own record of what it wrote, so a no-op apply costs nothing and writes nothing.

Ownership (what a restarted agent recognises as its own):
- chains whose name starts with `cali-` are ours entirely: rewritten when their hashes differ,
  deleted when not desired;
- in every other chain (the kernel's INPUT/FORWARD/..., and anyone else's) only rules carrying a
  `cali:<hash>` comment are ours. Our hooks sit at the top (or at the end for `append=True`);
  stale or misplaced ones are removed and re-added; every other rule is never touched.

Problems handled:
- drift by hand (a deleted rule, a flushed chain) shows up as differing hashes at the next
  refresh and the chain is rewritten whole;
- a rule that jumps to a `cali-` chain nobody programmed gets a DROP stub chain (fail closed),
  replaced as soon as the real chain is set;
- a failed write leaves everything dirty and forces a read-back before the retry.
"""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from felixpy.iptables.chain import RULE_HASH_PREFIX, Chain, Rule, rule_hashes
from felixpy.iptables.save_reader import SavedRule, parse_save
from felixpy.iptables.writer import TableDelta, TableWriteError, TableWriter

log = logging.getLogger(__name__)

OWNED_PREFIX = "cali-"
_JUMP_RE = re.compile(r"(?:^|\s)-[jg]\s+(" + re.escape(OWNED_PREFIX) + r"[^\s]+)")
STUB_RULE = Rule(action="-j DROP", comment="Missing chain stub: dropping until it is programmed")


@dataclass
class TableStats:
    writes: int = 0          # restore runs / commits
    reads: int = 0           # read-backs
    lines_written: int = 0
    chains_written: int = 0
    last_apply_seconds: float = 0.0


def _jump_targets(rules) -> set[str]:
    """The `cali-` chains these rules jump or go to (the regex only runs on actions naming one)."""
    return {m.group(1) for r in rules if OWNED_PREFIX in r.action
            for m in _JUMP_RE.finditer(" " + r.action)}


def _spec(chain: str, rule: Rule, h: str) -> str:
    body = rule.render()
    return f'-m comment --comment "{RULE_HASH_PREFIX}{h}"' + (f" {body}" if body else "")


class Table:
    def __init__(self, name: str, writer: TableWriter):
        self.name = name
        self.writer = writer
        self._desired: dict[str, Chain] = {}
        self._desired_hashes: dict[str, list[str]] = {}
        self._refs: dict[str, set[str]] = {}            # chain -> cali- chains it jumps to
        self._refcount: dict[str, int] = {}
        self._hooks: dict[str, tuple[tuple[Rule, ...], tuple[Rule, ...]]] = {}
        self._dp_chains: dict[str, list[str | None]] = {}     # our chains in the kernel -> hashes
        self._dp_kernel: dict[str, list[SavedRule]] = {}      # other chains -> their rules
        self._dirty_chains: set[str] = set()
        self._dirty_hooks: set[str] = set()
        self._resync = True
        self.stats = TableStats()

    # ------------------------------------------------------------- desired state (memory only)

    def update_chain(self, chain: Chain) -> None:
        if not chain.name.startswith(OWNED_PREFIX):
            raise ValueError(f"chain {chain.name!r} is not ours (needs prefix {OWNED_PREFIX})")
        old = self._desired.get(chain.name)
        if old == chain:
            return
        self._desired[chain.name] = chain
        self._desired_hashes[chain.name] = rule_hashes(chain.name, chain.rules)
        self._set_refs(chain.name, _jump_targets(chain.rules))
        self._dirty_chains.add(chain.name)

    def remove_chain(self, name: str) -> None:
        if self._desired.pop(name, None) is None:
            return
        self._desired_hashes.pop(name, None)
        self._set_refs(name, set())
        self._dirty_chains.add(name)

    def set_hook_rules(self, kernel_chain: str, rules, append: bool = False) -> None:
        """Our rules in a chain we don't own: inserted at its top, or appended when `append`."""
        ins, app = self._hooks.get(kernel_chain, ((), ()))
        new = (ins, tuple(rules)) if append else (tuple(rules), app)
        if new == (ins, app):
            return
        if new == ((), ()):
            self._hooks.pop(kernel_chain, None)
        else:
            self._hooks[kernel_chain] = new
        self._set_refs(f"hook:{kernel_chain}:{'append' if append else 'insert'}", _jump_targets(rules))
        self._dirty_hooks.add(kernel_chain)

    def queue_resync(self) -> None:
        """Read the kernel back at the next apply (refresh timer, or after an error)."""
        self._resync = True

    def desired_chain_names(self) -> set[str]:
        return set(self._desired)

    def hook_chain_names(self) -> set[str]:
        return set(self._hooks)

    @property
    def dirty(self) -> bool:
        return self._resync or bool(self._dirty_chains or self._dirty_hooks)

    # ------------------------------------------------------------- refs and stubs

    def _set_refs(self, name: str, refs: set[str]) -> None:
        old = self._refs.pop(name, set())
        for t in old - refs:
            self._refcount[t] -= 1
            if not self._refcount[t]:
                del self._refcount[t]
            self._dirty_chains.add(t)
        for t in refs - old:
            self._refcount[t] = self._refcount.get(t, 0) + 1
            self._dirty_chains.add(t)
        if refs:
            self._refs[name] = refs

    def _effective(self, name: str) -> tuple[Chain | None, list[str] | None]:
        """The chain we want in the kernel under `name`: desired, a DROP stub, or nothing."""
        if name in self._desired:
            return self._desired[name], self._desired_hashes[name]
        if self._refcount.get(name):
            stub = Chain(name, (STUB_RULE,))
            return stub, rule_hashes(name, stub.rules)
        return None, None

    # ------------------------------------------------------------- kernel

    @property
    def needs_read(self) -> bool:
        return self._resync

    def load_saved(self, text: str) -> None:
        """Take the kernel view from iptables-save text the caller already read (one save of all
        tables is much cheaper than one per table on the nft backend)."""
        self._load_dataplane(text)

    def _load_dataplane(self, text: str | None = None) -> None:
        if text is None:
            text = self.writer.read(self.name)
        self.stats.reads += 1
        saved = parse_save(text, self.name)
        self._dp_chains = {n: [r.hash for r in rules] for n, rules in saved.chains.items()
                           if n.startswith(OWNED_PREFIX)}
        self._dp_kernel = {n: rules for n, rules in saved.chains.items() if not n.startswith(OWNED_PREFIX)}
        self._dirty_chains |= set(self._desired) | set(self._dp_chains) | set(self._refcount)
        self._dirty_hooks |= set(self._hooks) | {n for n, rules in self._dp_kernel.items()
                                                 if any(r.hash for r in rules)}
        self._resync = False

    def _hook_hashes(self, kernel_chain: str) -> tuple[list[str], list[str], list[Rule], list[Rule]]:
        ins, app = self._hooks.get(kernel_chain, ((), ()))
        return (rule_hashes(kernel_chain, ins), rule_hashes(kernel_chain + ":append", app), list(ins), list(app))

    def _compute_delta(self) -> tuple[TableDelta, dict, dict]:
        delta = TableDelta()
        new_chains: dict[str, list[str]] = {}
        for name in sorted(self._dirty_chains):
            chain, hashes = self._effective(name)
            have = self._dp_chains.get(name)
            if chain is None:
                if have is not None:
                    delta.delete_chains.append(name)
                continue
            if have == hashes:
                continue
            delta.write_chains[name] = [_spec(name, r, h) for r, h in zip(chain.rules, hashes)]
            new_chains[name] = hashes
        new_kernel: dict[str, list[SavedRule]] = {}
        for kc in sorted(self._dirty_hooks):
            h_ins, h_app, ins, app = self._hook_hashes(kc)
            rules = self._dp_kernel.get(kc, [])
            ours = [r for r in rules if r.hash]
            top = [r.hash for r in rules[:len(h_ins)]]
            if top == h_ins and [r.hash for r in ours] == h_ins + h_app:
                continue
            for r in ours:
                delta.hook_deletes.append((kc, r.spec))
            ins_specs = [_spec(kc, r, h) for r, h in zip(ins, h_ins)]
            app_specs = [_spec(kc, r, h) for r, h in zip(app, h_app)]
            if ins_specs:
                delta.hook_inserts[kc] = ins_specs
            if app_specs:
                delta.hook_appends[kc] = app_specs
            foreign = [r for r in rules if not r.hash]
            new_kernel[kc] = ([SavedRule(h, s) for h, s in zip(h_ins, ins_specs)] + foreign
                              + [SavedRule(h, s) for h, s in zip(h_app, app_specs)])
        return delta, new_chains, new_kernel

    def apply(self) -> TableDelta:
        """Bring the kernel in line with the desired state; returns what was written."""
        if not self.dirty:
            return TableDelta()
        start = time.monotonic()
        try:
            if self._resync:
                self._load_dataplane()
            delta, new_chains, new_kernel = self._compute_delta()
            if not delta.is_empty():
                self.writer.write(self.name, delta)
                self.stats.writes += 1
                self.stats.lines_written += delta.line_count()
                self.stats.chains_written += len(delta.write_chains)
                self._log_delta(delta)
        except TableWriteError:
            self._resync = True
            raise
        self._dp_chains.update(new_chains)
        for name in delta.delete_chains:
            self._dp_chains.pop(name, None)
        self._dp_kernel.update(new_kernel)
        self._dirty_chains.clear()
        self._dirty_hooks.clear()
        self.stats.last_apply_seconds = time.monotonic() - start
        return delta

    def _log_delta(self, delta: TableDelta) -> None:
        log.info("iptables %s: wrote %d chain(s) %s, deleted %d %s, hooks changed in %s (%d lines)",
                 self.name, len(delta.write_chains), sorted(delta.write_chains)[:8],
                 len(delta.delete_chains), delta.delete_chains[:8],
                 sorted(set(delta.hook_inserts) | set(delta.hook_appends) | {c for c, _ in delta.hook_deletes}),
                 delta.line_count())
