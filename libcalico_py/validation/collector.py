"""FieldErrors collected while walking one object, so every problem is reported."""
from __future__ import annotations

from typing import Callable, Iterable

from libcalico_py.errors import FieldError

Reason = Callable[..., "str | None"]


class Collector(list):
    def add(self, path: str, reason: str, value: object = None) -> None:
        self.append(FieldError(path, reason, value))

    def check(self, path: str, reason: str | None, value: object = None) -> bool:
        """Record `reason` if it is not None; True when the value was valid."""
        if reason:
            self.add(path, reason, value)
            return False
        return True

    def require(self, path: str, value: object, reason: Reason, *args: object) -> bool:
        """A required field: "required field is missing" when `value` is empty, else
        `reason(value, *args)` is checked. True when present and valid."""
        if not value:
            self.add(path, "required field is missing")
            return False
        return self.check(path, reason(value, *args), value)

    def check_each(self, path: str, values: Iterable | None, reason: Reason,
                   *args: object) -> None:
        """Check `reason(item, *args)` for every item of a list field that is not None,
        reporting at `path[i]`."""
        for i, value in enumerate(values or ()):
            if value is not None:
                self.check(f"{path}[{i}]", reason(value, *args), value)


def one_of(value: str, allowed: tuple[str, ...], ignore_case: bool = False) -> str | None:
    ok = value.lower() in {a.lower() for a in allowed} if ignore_case else value in allowed
    return None if ok else f"must be one of {', '.join(allowed)}"
