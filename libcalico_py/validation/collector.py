"""FieldErrors collected while walking one object, so every problem is reported."""
from __future__ import annotations

from libcalico_py.errors import FieldError


class Collector(list):
    def add(self, path: str, reason: str, value: object = None) -> None:
        self.append(FieldError(path, reason, value))

    def check(self, path: str, reason: str | None, value: object = None) -> bool:
        """Record `reason` if it is not None; True when the value was valid."""
        if reason:
            self.add(path, reason, value)
            return False
        return True


def one_of(value: str, allowed: tuple[str, ...], ignore_case: bool = False) -> str | None:
    ok = value.lower() in {a.lower() for a in allowed} if ignore_case else value in allowed
    return None if ok else f"must be one of {', '.join(allowed)}"
