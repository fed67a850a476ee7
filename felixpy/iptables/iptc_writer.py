"""TableWriter over python-iptables (libiptc): one transaction per table apply.

libiptc only speaks to the legacy (x_tables) kernel tables, so this writer is `backend="legacy"`.
A `Table(autocommit=False)` handle is taken fresh (`refresh()`) for every apply and read, because
python-iptables caches one handle per table name, that handle belongs to the network namespace it
was opened in, and a second `commit()` on a used handle fails with EAGAIN. Rule text arrives in
iptables-restore syntax and is turned into iptc Rule objects by `rule_from_spec`; reading back
uses `iptables-legacy-save` (same kernel tables), so both writers share one parser.
"""
from __future__ import annotations

import logging
import re
import subprocess

from felixpy.iptables.save_reader import rule_hash
from felixpy.iptables.writer import TableDelta, TableWriteError

log = logging.getLogger(__name__)

# options that belong to the rule entry itself rather than to a match or target module
_ENTRY_OPTS = {"-p": "protocol", "--protocol": "protocol", "-s": "src", "--source": "src",
               "-d": "dst", "--destination": "dst", "-i": "in_interface", "--in-interface": "in_interface",
               "-o": "out_interface", "--out-interface": "out_interface"}


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def split_spec(spec: str) -> list[str]:
    """Words of a rule spec; double-quoted words (comments) keep their spaces. Much cheaper
    than shlex for the tens of thousands of rules a big apply carries."""
    return [q.replace('\\"', '"') if q or w == "" else w for q, w in _TOKEN.findall(spec)]


def rule_from_spec(spec: str, iptc_mod):
    """Build an iptc.Rule from one rule spec ("-p tcp -m set --match-set s src -j ACCEPT")."""
    tokens = split_spec(spec)
    rule = iptc_mod.Rule()
    module = None          # current match or target receiving --options
    protocol = None
    i = 0
    negate = False
    while i < len(tokens):
        tok = tokens[i]
        if tok == "!":
            negate = True
            i += 1
            continue
        if tok in _ENTRY_OPTS:
            value = tokens[i + 1]
            attr = _ENTRY_OPTS[tok]
            setattr(rule, attr, ("!" if negate else "") + value)
            if attr == "protocol":
                protocol = value
                module = None      # a following bare --dport belongs to the implicit protocol match
            negate = False
            i += 2
            continue
        if tok in ("-m", "--match"):
            module = rule.create_match(tokens[i + 1])
            i += 2
            continue
        if tok in ("-j", "--jump", "-g", "--goto"):
            module = rule.create_target(tokens[i + 1], goto=tok in ("-g", "--goto"))
            i += 2
            continue
        if tok.startswith("--"):
            values = []
            j = i + 1
            while j < len(tokens) and not tokens[j].startswith("-") and tokens[j] != "!":
                values.append(tokens[j])
                j += 1
            if module is None:
                if protocol is None:
                    raise ValueError(f"option {tok} outside any match in rule {spec!r}")
                module = rule.create_match(protocol)   # implicit "-m tcp" after "-p tcp"
            module.parse(tok[2:], (["!"] if negate else []) + values)
            negate = False
            i = j
            continue
        raise ValueError(f"cannot parse {tok!r} in rule {spec!r}")
    if rule.target is None or not rule.target.name:
        rule.create_target("")     # no -j: iptables' "continue" (a rule that only counts/comments)
    return rule


class IptcWriter:
    kind = "iptc"
    backend = "legacy"

    def __init__(self):
        import iptc  # deferred: loading libiptc is only needed when this writer is chosen
        self._iptc = iptc
        self.bytes_written = 0

    def read(self, table: str) -> str:
        return self._save(table, ["-t", table])

    def read_all(self) -> str:
        return self._save("*", [])

    def _save(self, table: str, args: list[str]) -> str:
        try:
            res = subprocess.run(["iptables-legacy-save", *args], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TableWriteError(table, "save", str(exc)) from exc
        if res.returncode != 0:
            raise TableWriteError(table, "save", res.stderr.strip())
        return res.stdout

    def write(self, table: str, delta: TableDelta) -> None:
        iptc = self._iptc
        try:
            t = iptc.Table(table, autocommit=False)
            t.refresh()
            for name in list(delta.write_chains) + delta.delete_chains:
                if t.is_chain(name):
                    t.flush_entries(name)
                else:
                    t.create_chain(name)
            for chain, spec in delta.hook_deletes:
                self._delete_hook(t, chain, spec)
            for name, specs in delta.write_chains.items():
                ch = iptc.Chain(t, name)
                for spec in specs:
                    ch.append_rule(rule_from_spec(spec, iptc))
            for chain, specs in delta.hook_inserts.items():
                ch = iptc.Chain(t, chain)
                for pos, spec in enumerate(specs):
                    ch.insert_rule(rule_from_spec(spec, iptc), pos)
            for chain, specs in delta.hook_appends.items():
                ch = iptc.Chain(t, chain)
                for spec in specs:
                    ch.append_rule(rule_from_spec(spec, iptc))
            for name in delta.delete_chains:
                t.delete_chain(name)
            t.commit()
            self.bytes_written += len(delta.render_restore(table))
        except (iptc.IPTCError, iptc.XTablesError, ValueError) as exc:
            raise TableWriteError(table, "python-iptables commit", str(exc)) from exc
        finally:
            try:
                iptc.Table(table).refresh()   # drop uncommitted state; a fresh handle for next time
            except iptc.IPTCError:
                pass

    def _delete_hook(self, t, chain: str, spec: str) -> None:
        """Delete the hook rule carrying the same cali: hash as `spec` (by identity, not text)."""
        want = rule_hash(spec)
        ch = self._iptc.Chain(t, chain)
        for rule in ch.rules:
            for m in rule.matches:
                if m.name == "comment" and want and m.comment == f"cali:{want}":
                    ch.delete_rule(rule)
                    return
        raise TableWriteError(t.name, "python-iptables delete", f"no rule cali:{want} in {chain}")
