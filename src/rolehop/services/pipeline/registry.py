"""AWS operations by service and name. Each operation module registers its handlers with @operation
when it is imported, and importing `rolehop.services` imports every one of them (see its
`__init__`); the wire layer looks handlers up here and never needs to know where they live."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rolehop.services.pipeline.call import Call

Params = dict[str, Any]
Result = dict[str, Any]
Handler = Callable[[Call, Params], Result]

OPERATIONS: dict[tuple[str, str], Handler] = {}


def operation(service: str, name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if (service, name) in OPERATIONS:
            raise RuntimeError(f"{service}:{name} registered twice")
        OPERATIONS[(service, name)] = handler
        return handler

    return register
