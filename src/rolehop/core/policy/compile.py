"""`parse_policy`: JSON policy document -> compiled `Policy`, or MalformedPolicyDocument.

The grammar is the IAM User Guide's (Version 2012-10-17 or 2008-10-17, the default when
absent; Statement as one object or a list; Sid, Effect, Action/NotAction, Resource/NotResource,
Principal/NotPrincipal, Condition). Compilation rejects what it cannot evaluate exactly: unknown
elements, a statement with both or neither of Action/NotAction, an unknown condition operator,
an unreadable typed value. Which elements a given kind of policy must or must not have (a trust
policy's Principal, an identity policy's Resource) is write-time validation's business
(`validate.py`); the evaluator copes with their absence in a fail-closed way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolehop.core.bounded_json import load_json
from rolehop.core.errors import MalformedPolicyDocument
from rolehop.core.policy.arnmatch import ArnPattern
from rolehop.core.policy.conditions import compile_block
from rolehop.core.policy.model import Policy, ResourceItem, Statement, build_arn
from rolehop.core.policy.principals import compile_principal
from rolehop.core.policy.variables import EMPTY_CONTEXT, Resolved, is_static, parse, to_tokens
from rolehop.core.policy.wildcard import Glob, tokenize

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP = frozenset({"Version", "Id", "Statement"})
_STATEMENT = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)


def parse_policy(
    document: str | bytes | Mapping[str, Any], *, name: str = "", lenient: bool = False
) -> Policy:
    """Compile `document`. `lenient` is for documents IAM has already accepted (see
    validate.py) that hold parts IAM stores but nothing can read — an unknown operator with an
    empty block, an unreadable date, a non-string resource: such a statement fails closed (an
    Allow grants nothing, a Deny denies whatever its conditions say) instead of the policy failing."""
    doc = _load(document)
    unknown = set(doc) - _TOP
    if unknown:
        names = ", ".join(sorted(unknown))
        raise MalformedPolicyDocument(f"Policy document has unknown elements: {names}.")
    version = doc.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicyDocument("The policy Version must be 2012-10-17 or 2008-10-17.")
    policy_id = doc.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        raise MalformedPolicyDocument("The policy Id must be a string.")
    raw = doc.get("Statement")
    if raw is None:
        raise MalformedPolicyDocument("The policy has no Statement.")
    items = raw if isinstance(raw, list) else [raw]
    variables = version == "2012-10-17"  # 2008-10-17 has no policy variables
    statements = tuple(_statement(name, i, item, variables, lenient) for i, item in enumerate(items))
    return Policy(name, version, policy_id, statements)


def _load(document: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(document, Mapping):
        return document
    try:
        loaded = load_json(document)
    except (ValueError, TypeError) as exc:
        raise MalformedPolicyDocument(f"The policy is not valid JSON: {exc}.") from None
    if not isinstance(loaded, Mapping):
        raise MalformedPolicyDocument("The policy document must be a JSON object.")
    return loaded


def _statement(policy: str, index: int, raw: Any, variables: bool, lenient: bool = False) -> Statement:
    if not isinstance(raw, Mapping):
        raise MalformedPolicyDocument(f"Statement {index} must be an object.")
    unknown = set(raw) - _STATEMENT
    if unknown:
        names = ", ".join(sorted(unknown))
        raise MalformedPolicyDocument(f"Statement {index} has unknown elements: {names}.")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicyDocument(f"Statement {index}: Effect must be Allow or Deny.")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise MalformedPolicyDocument(f"Statement {index}: Sid must be a string.")
    action_key, action_raw = _one_of(raw, "Action", "NotAction", index, required=True)
    resource_key, resource_raw = _one_of(raw, "Resource", "NotResource", index, required=False)
    principal_key, principal_raw = _one_of(raw, "Principal", "NotPrincipal", index, required=False)
    assert action_key is not None
    actions = tuple(Glob(tokenize(a.lower())) for a in _strings(action_raw, action_key, index))
    try:
        resources = None if resource_key is None else _resources(resource_raw, resource_key, index, variables)
        conditions = compile_block(raw.get("Condition", {}), variables=variables)
    except MalformedPolicyDocument:
        if not lenient:
            raise
        resources = (
            None
            if resource_key is None
            else _resources(
                [
                    r
                    for r in (resource_raw if isinstance(resource_raw, list) else [resource_raw])
                    if isinstance(r, str)
                ]
                or ["*"],
                resource_key,
                index,
                variables,
            )
        )
        conditions = compile_block({}, variables=variables)
        if effect == "Allow":
            actions = ()  # an Allow nobody can read grants nothing
    return Statement(
        policy=policy,
        index=index,
        sid=sid,
        effect=effect,
        actions=actions,
        not_action=action_key == "NotAction",
        resources=resources,
        not_resource=resource_key == "NotResource",
        principal=None if principal_key is None else compile_principal(principal_raw),
        not_principal=principal_key == "NotPrincipal",
        conditions=conditions,
    )


def _one_of(
    raw: Mapping[str, Any], key: str, not_key: str, index: int, *, required: bool
) -> tuple[str | None, Any]:
    if key in raw and not_key in raw:
        raise MalformedPolicyDocument(f"Statement {index} has both {key} and {not_key}.")
    for k in (key, not_key):
        if k in raw:
            return k, raw[k]
    if required:
        raise MalformedPolicyDocument(f"Statement {index} needs {key} or {not_key}.")
    return None, None


def _strings(raw: Any, element: str, index: int) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(i, str) for i in items):
        raise MalformedPolicyDocument(f"Statement {index}: {element} must be a string or a list of strings.")
    return list(items)


def _resources(raw: Any, element: str, index: int, variables: bool) -> tuple[ResourceItem, ...]:
    out: list[ResourceItem] = []
    for text in _strings(raw, element, index):
        parts = parse(text, variables=variables)
        if is_static(parts):
            tokens = to_tokens(parts, EMPTY_CONTEXT) or ()
            out.append(ArnPattern(tokens, type_rule=True))
        else:
            out.append(Resolved(parts, build_arn))
    return tuple(out)
