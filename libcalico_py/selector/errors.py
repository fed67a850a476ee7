"""The one error type of the selector package.

`SelectorError` is a `ValueError` (and a `CalicoError`) that says where in the text
the problem is and what the parser expected there, e.g.
`invalid selector 'a == ': unexpected end of selector at position 5; expected a quoted string`.
"""
from __future__ import annotations

from typing import Optional

from libcalico_py.errors import CalicoError


class SelectorError(CalicoError, ValueError):
    """A selector that does not parse. `.selector` is the text, `.position` the
    0-based offset of the problem, `.problem` what was found, `.expected` what
    would have been valid there."""

    def __init__(self, selector: str, position: int, problem: str, expected: Optional[str] = None):
        self.selector = selector
        self.position = position
        self.problem = problem
        self.expected = expected
        message = f"invalid selector {selector!r}: {problem} at position {position}"
        if expected:
            message += f"; expected {expected}"
        super().__init__(message)

    @property
    def reason(self) -> str:
        """The message without the selector text, for a FieldError reason."""
        text = f"{self.problem} at position {self.position}"
        return text + (f"; expected {self.expected}" if self.expected else "")
