"""IPSets: the desired -> diff -> apply driver for our kernel IP sets (`ipset restore`).

Managers set membership in memory (`set_members`, `add_members`, `remove_members`,
`remove_set`); `apply_updates()` creates and fills sets in one `ipset restore` batch and must run
before the iptables apply (rules may only reference existing sets); `apply_deletions()` destroys
sets nobody wants any more and must run after it (a set in use by a rule cannot be destroyed).

Ownership: sets named `cali40…` (IPv4) / `cali60…` (IPv6) are ours, plus leftover temp sets
`cali4t…`/`cali6t…`. Read back (`ipset list`: every set with its members) happens on the
first apply, after `queue_resync()` and after an error; then only sets and members that differ
are written.

Problems handled:
- a set whose size limit (maxelem) changed cannot be altered in place: it is built under a temp
  name and swapped in, so rules referencing it never see an empty or missing set; `ipset swap`
  refuses sets of different types, so a type change (set IDs encode the type, so only a leftover
  of an older agent can differ) destroys and recreates the set;
- `ipset list` prints a hash:net /32 member without its prefix length; members are compared in
  that canonical form, otherwise every refresh would rewrite every set;
- a destroy that fails because a rule still uses the set is retried at the next apply.
"""
from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass

from libcalico_py.errors import CalicoError

log = logging.getLogger(__name__)

MAX_NAME_LEN = 31
DEFAULT_MAXELEM = 1048576
# Set options that make `ipset list` print more than the member on a member line.
_MEMBER_OPTIONS = frozenset({"timeout", "counters", "comment", "skbinfo"})


class IPSetError(CalicoError):
    def __init__(self, operation: str, detail: str):
        self.operation = operation
        self.detail = detail
        super().__init__(f"ipset {operation} failed: {detail}")


def default_set_name(set_id: str, ip_version: int = 4, temp: bool = False) -> str:
    """Calico's naming: cali + 4|6 + 0 (main) or t (temp) + set ID, cut to 31 chars."""
    return f"cali{ip_version}{'t' if temp else '0'}{set_id}"[:MAX_NAME_LEN]


@dataclass
class IPSetStats:
    writes: int = 0
    reads: int = 0
    lines_written: int = 0
    destroys: int = 0


class IPSets:
    def __init__(self, ip_version: int = 4, name_of=None, maxelem: int = DEFAULT_MAXELEM):
        self.ip_version = ip_version
        self.family = "inet" if ip_version == 4 else "inet6"
        self._name_of = name_of or (lambda set_id: default_set_name(set_id, ip_version))
        self.maxelem = maxelem
        self._prefixes = (f"cali{ip_version}0", f"cali{ip_version}t")
        self._desired: dict[str, tuple[str, set[str]]] = {}      # name -> (type, members)
        self._dp: dict[str, tuple[str, set[str]]] = {}
        self._dirty: set[str] = set()
        self._wrong_size: set[str] = set()
        self._resync = True
        self.stats = IPSetStats()

    def name_of(self, set_id: str) -> str:
        return self._name_of(set_id)

    # ------------------------------------------------------------- desired state

    def _canonical(self, members, set_type: str) -> set[str]:
        if set_type != "hash:net":
            return set(members)
        full = "/32" if self.ip_version == 4 else "/128"
        return {m.removesuffix(full) for m in members}

    def set_members(self, set_id: str, set_type: str, members) -> None:
        name = self.name_of(set_id)
        want = (set_type, self._canonical(members, set_type))
        if self._desired.get(name) != want:
            self._desired[name] = want
            self._dirty.add(name)

    def add_members(self, set_id: str, members) -> None:
        name = self.name_of(set_id)
        set_type, current = self._desired[name]
        current.update(self._canonical(members, set_type))
        self._dirty.add(name)

    def remove_members(self, set_id: str, members) -> None:
        name = self.name_of(set_id)
        set_type, current = self._desired[name]
        current.difference_update(self._canonical(members, set_type))
        self._dirty.add(name)

    def remove_set(self, set_id: str) -> None:
        name = self.name_of(set_id)
        if self._desired.pop(name, None) is not None:
            self._dirty.add(name)

    def members(self, set_id: str) -> set[str]:
        return set(self._desired.get(self.name_of(set_id), ("", set()))[1])

    def queue_resync(self) -> None:
        self._resync = True

    @property
    def dirty(self) -> bool:
        return self._resync or bool(self._dirty)

    def total_members(self) -> int:
        return sum(len(m) for _, m in self._desired.values())

    # ------------------------------------------------------------- kernel

    def _ours(self, name: str) -> bool:
        return name.startswith(self._prefixes)

    def _load_dataplane(self) -> None:
        res = subprocess.run(["ipset", "list"], capture_output=True, text=True)
        if res.returncode != 0:
            raise IPSetError("list", res.stderr.strip())
        self.stats.reads += 1
        dp, self._wrong_size = self._parse_list(res.stdout)
        self._dp = dp
        self._dirty |= set(self._desired) | set(dp)
        self._resync = False

    def _parse_list(self, text: str) -> tuple[dict[str, tuple[str, set[str]]], set[str]]:
        """Our sets in `ipset list` output: name -> (type, members), and the names whose
        maxelem differs. `ipset list` prints each member once on its own line (`ipset save`
        repeats `add <set>` on every line: 2.5x the text to produce and split)."""
        dp: dict[str, tuple[str, set[str]]] = {}
        wrong_size: set[str] = set()
        maxelem = str(self.maxelem)
        for block in text.split("\nName: "):
            if block.startswith("Name: "):
                block = block[len("Name: "):]
            head, _, members = block.partition("\nMembers:\n")
            lines = head.split("\n")
            name = lines[0].strip()
            if not name or not self._ours(name):
                continue
            fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            header = fields.get("Header", "").split()
            if "maxelem" in header and header[header.index("maxelem") + 1] != maxelem:
                wrong_size.add(name)
            if _MEMBER_OPTIONS.isdisjoint(header):
                found = set(members.split())
            else:       # members followed by "timeout 10", 'comment "x"', ...: first word only
                found = {line.split(None, 1)[0] for line in members.splitlines() if line.strip()}
            dp[name] = (fields.get("Type", "").strip(), found)
        return dp, wrong_size

    def _restore(self, lines: list[str], operation: str) -> None:
        payload = "\n".join(lines) + "\n"
        res = subprocess.run(["ipset", "-exist", "restore"], input=payload, capture_output=True, text=True)
        if res.returncode != 0:
            raise IPSetError(operation, res.stderr.strip())
        self.stats.writes += 1
        self.stats.lines_written += len(lines)

    def apply_updates(self) -> int:
        """Create and update every dirty desired set in one batch; returns lines written."""
        if not self.dirty:
            return 0
        try:
            if self._resync:
                self._load_dataplane()
            lines: list[str] = []
            written: list[str] = []
            for name in sorted(self._dirty):
                if name not in self._desired:
                    continue
                set_type, members = self._desired[name]
                have = self._dp.get(name)
                if have == (set_type, members) and name not in self._wrong_size:
                    continue
                create = f"create {{}} {set_type} family {self.family} maxelem {self.maxelem}"
                if have is None:
                    lines.append(create.format(name))
                    lines.extend(f"add {name} {m}" for m in members)
                elif have[0] != set_type:
                    lines.append(f"destroy {name}")
                    lines.append(create.format(name))
                    lines.extend(f"add {name} {m}" for m in members)
                elif name in self._wrong_size:
                    temp = (f"cali{self.ip_version}t" + name[len(self._prefixes[0]):])[:MAX_NAME_LEN]
                    if temp in self._dp:
                        lines.append(f"destroy {temp}")
                    lines.append(create.format(temp))
                    lines.extend(f"add {temp} {m}" for m in members)
                    lines.append(f"swap {temp} {name}")
                    lines.append(f"destroy {temp}")
                    self._dp.pop(temp, None)
                    self._wrong_size.discard(name)
                else:
                    lines.extend(f"del {name} {m}" for m in sorted(have[1] - members))
                    lines.extend(f"add {name} {m}" for m in sorted(members - have[1]))
                written.append(name)
            if lines:
                self._restore(lines, "restore")
                log.info("ipsets: wrote %d set(s) %s (%d lines)", len(written), written[:8], len(lines))
        except IPSetError:
            self._resync = True
            raise
        for name in written:
            set_type, members = self._desired[name]
            self._dp[name] = (set_type, set(members))
        self._dirty = {n for n in self._dirty if n not in self._desired}
        return len(lines)

    def apply_deletions(self) -> int:
        """Destroy our sets that are no longer desired (after iptables stopped using them)."""
        gone = sorted(n for n in self._dirty if n not in self._desired and n in self._dp)
        self._dirty = {n for n in self._dirty if n in self._desired}
        destroyed = 0
        for name in gone:
            res = subprocess.run(["ipset", "destroy", name], capture_output=True, text=True)
            if res.returncode != 0 and "does not exist" not in res.stderr:
                log.warning("ipset destroy %s failed (%s); retrying at next apply", name, res.stderr.strip())
                self._dirty.add(name)
                continue
            self._dp.pop(name, None)
            destroyed += 1
        if destroyed:
            self.stats.destroys += destroyed
            log.info("ipsets: destroyed %d set(s) %s", destroyed, gone[:8])
        return destroyed
