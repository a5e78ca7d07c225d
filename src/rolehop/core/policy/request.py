"""The request being authorised: principal, action, resource and context keys.

Everything the evaluator needs more than once is derived here, once per request: the
lower-cased action, the ARN segments of the resource, the caller's kind and account, and the
context with lower-cased keys (condition keys are case-insensitive; values are not). A context
value is a string or a list of strings; an empty list counts as an absent key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rolehop.core.policy.arnmatch import split_arn
from rolehop.core.policy.principals import Caller, parse_caller
from rolehop.core.policy.wildcard import Tokens, tokenize

ContextInput = Mapping[str, str | Sequence[str]]


def normalize_context(context: ContextInput) -> dict[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {
        key.lower(): value for key, value in context.items() if isinstance(value, str)
    }
    if len(out) < len(context):  # rare: multivalued keys
        for key, value in context.items():
            if not isinstance(value, str):
                items = tuple(_text(v) for v in value)
                if items:
                    out[key.lower()] = items
    return out


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


@dataclass(frozen=True, slots=True)
class Request:
    """`resource_is_pattern`: the resource is a wildcard pattern standing for "some resource
    like this" (the offline `policy evaluate` command); the server always sends real ARNs."""

    principal: str
    action: str
    resource: str
    resource_account: str | None = None
    context: ContextInput = field(default_factory=dict)
    resource_is_pattern: bool = False
    # derived once, in __post_init__
    action_key: str = field(init=False, repr=False, compare=False)
    ctx: Mapping[str, str | tuple[str, ...]] = field(init=False, repr=False, compare=False)
    caller: Caller = field(init=False, repr=False, compare=False)
    resource_parts: tuple[str, ...] | None = field(init=False, repr=False, compare=False)
    resource_tokens: Tokens = field(init=False, repr=False, compare=False)
    same_account: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        caller = parse_caller(self.principal)
        parts = split_arn(self.resource)
        account = self.resource_account or (parts[4] if parts and parts[4] else None) or caller.account
        init = object.__setattr__
        init(self, "action_key", self.action.lower())
        init(self, "ctx", normalize_context(self.context))
        init(self, "caller", caller)
        init(self, "resource_parts", parts)
        init(self, "resource_tokens", tokenize(self.resource) if self.resource_is_pattern else ())
        init(self, "same_account", caller.account is not None and caller.account == account)

    @property
    def service(self) -> str:
        return self.action_key.split(":", 1)[0]
