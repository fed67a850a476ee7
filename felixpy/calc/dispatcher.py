"""Dispatcher: routes each validated resource update to the graph nodes for its kind
(`felix/dispatcher`). Kinds nobody registered for (BGP configuration, nodes, ...) are
counted and dropped, so adding a consumer later is one `register` call."""
from __future__ import annotations

from collections import Counter
from typing import Callable

from felixpy.calc.validation_filter import ResourceUpdate

Handler = Callable[[ResourceUpdate], None]


class Dispatcher:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self.ignored: Counter = Counter()

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers.setdefault(kind, []).append(handler)

    def dispatch(self, update: ResourceUpdate) -> None:
        handlers = self._handlers.get(update.kind)
        if handlers is None:
            self.ignored[update.kind] += 1
            return
        for handler in handlers:
            handler(update)
