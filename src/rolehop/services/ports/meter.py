"""The meter port: the few events services count for operators (rolehop.metrics implements it with
Prometheus counters). Services say what happened; how it is counted and exposed is the edge's.
Every method is called on the request path, so an implementation must be cheap and never raise."""

from __future__ import annotations

from typing import Protocol


class Meter(Protocol):
    def decision(self, result: str) -> None:
        """One policy evaluation: Allowed, ExplicitlyDenied or ImplicitlyDenied."""

    def credentials_issued(self) -> None:
        """One set of STS temporary credentials sealed."""

    def auth_failure(self, factor: str) -> None:
        """One failed authentication: factor is "mfa" (a wrong code) or "password"."""

    def auth_throttled(self) -> None:
        """One attempt refused because its user or source address is blocked (pipeline.throttle)."""


class NoMeter:
    """Counts nothing: the runtime's meter when nobody measures (tools, tests, --no-metrics)."""

    def decision(self, result: str) -> None:
        pass

    def credentials_issued(self) -> None:
        pass

    def auth_failure(self, factor: str) -> None:
        pass

    def auth_throttled(self) -> None:
        pass
